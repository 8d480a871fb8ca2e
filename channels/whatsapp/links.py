"""Which record each message we sent belongs to: ``wamid`` → record id, for native threading.

Written by the sender when the Cloud API accepts a message (an acknowledgement, a question, a
core message); read by the dispatcher hook when a citizen's message quotes one of ours
(``context.id``), which makes it a follow-up of that record. Kept as long as routes are.
"""

from __future__ import annotations

import redis.asyncio as aioredis

from gateway import keys


def sent_key(wamid: str) -> str:
    return f"{keys.PREFIX}wa:sent:{wamid}"


async def remember(r: aioredis.Redis, wamid: str, record_id: str, ttl_s: int) -> None:
    await r.set(sent_key(wamid), record_id, ex=ttl_s)


async def record_for(r: aioredis.Redis, wamid: str) -> str | None:
    raw = await r.get(sent_key(wamid))
    return raw.decode() if isinstance(raw, bytes) else raw
