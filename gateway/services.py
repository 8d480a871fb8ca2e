"""Reading the states that channel services publish (``channels.core.service.Service``)."""

from __future__ import annotations

from typing import Any

import orjson
import redis.asyncio as aioredis

from gateway import keys


async def read_states(r: aioredis.Redis) -> dict[str, dict[str, Any]]:
    """All live service states, by service name."""
    out: dict[str, dict[str, Any]] = {}
    async for key in r.scan_iter(match=keys.state("service:*"), count=100):
        raw = await r.get(key)
        if raw:
            doc = orjson.loads(raw)
            out[doc.get("name", key.decode())] = doc
    return out
