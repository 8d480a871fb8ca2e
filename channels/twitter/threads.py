"""X threads: a citizen's run of self-replies is one complaint, nothing held back.

The first tweet becomes a record at once. A tweet that replies to the same author's earlier
tweet which we already know becomes a record flagged ``follow_up`` whose
``conversation.in_reply_to`` is the first record's id. State in Redis: tweet id → id of the
thread's first record (``lapor:twitter:thread:<tweet id>``), written while deciding — the
mapping is deterministic (the record id was fixed at intake), so writing it before the
commit is safe when the entry is retried, and later entries of the same batch already see it.

A continuation gets no acknowledgement of its own (``reply_to`` dropped): the citizen already
got the thread's reference on the first tweet; the core reaches them through that record.
"""

from __future__ import annotations

import redis.asyncio as aioredis

from dispatcher.hooks import Decision, Emit
from normalizer.models import InboundMessage
from normalizer.normalize import NormalizeContext

THREAD_TTL_S = 30 * 24 * 3600


def thread_key(tweet_id: str) -> str:
    return f"lapor:twitter:thread:{tweet_id}"


class ThreadLinker:
    """Dispatcher preprocessor for tweets (not DMs)."""

    def __init__(self, ttl_s: int = THREAD_TTL_S) -> None:
        self.ttl_s = ttl_s

    def applies(self, msg: InboundMessage) -> bool:
        return msg.channel == "twitter" and msg.kind in ("mention", "reply")

    async def prepare(self, r: aioredis.Redis, msg: InboundMessage) -> Decision:
        assert msg.id is not None, "stamped by intake"
        parent = msg.conversation.in_reply_to if msg.conversation else None
        self_reply = parent is not None and msg.meta.get("in_reply_to_user_id") == msg.sender.id
        root: str | None = None
        if self_reply and parent is not None:
            raw = await r.get(thread_key(parent))
            root = raw.decode() if isinstance(raw, bytes) else raw
        if root is None or root == msg.id:
            await r.set(thread_key(msg.native_id), msg.id, ex=self.ttl_s)
            return Decision.single(msg)
        await r.set(thread_key(msg.native_id), root, ex=self.ttl_s)
        msg.reply_to = None
        return Decision(emit=[Emit([msg], NormalizeContext(in_reply_to=root, extra_flags=["follow_up"]))])

    async def sweep(self, r: aioredis.Redis) -> list[Emit]:
        return []  # nothing is ever held
