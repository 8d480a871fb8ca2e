"""A short-lived, capped log of inbound requests per channel, for admins.

Entries carry timing, status and a scrubbed error; never bodies, query strings or secrets.
Writes are buffered and flushed in one pipeline so the webhook path pays no extra round trip.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import defaultdict
from typing import Any

import orjson
import redis.asyncio as aioredis

from gateway import keys, request_id
from gateway.logging import scrub


class ChannelLog:
    def __init__(self, r: aioredis.Redis, *, size: int = 200, ttl_s: int = 86400,
                 flush_interval_s: float = 0.5) -> None:
        self.redis = r
        self.size = size
        self.ttl_s = ttl_s
        self.flush_interval_s = flush_interval_s
        self._buffer: dict[str, list[bytes]] = defaultdict(list)
        self._task: asyncio.Task[None] | None = None

    def record(self, channel: str, *, status: int | str, latency_ms: float, method: str = "",
               path: str = "", error: str | None = None, **counts: Any) -> None:
        entry = {"t": round(time.time(), 3), "status": status, "ms": round(latency_ms, 2),
                 "method": method, "path": scrub(path), "error": scrub(error) if error else None,
                 "request_id": request_id.current.get()}
        entry.update({k: v for k, v in counts.items() if v})
        buf = self._buffer[channel]
        buf.append(orjson.dumps(entry))
        if len(buf) > self.size:
            del buf[: len(buf) - self.size]

    async def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="channel-log")

    async def close(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        with contextlib.suppress(Exception):
            await self.flush()

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.flush_interval_s)
            with contextlib.suppress(Exception):  # Redis down: keep the newest entries in memory
                await self.flush()

    async def flush(self) -> None:
        if not self._buffer:
            return
        pending, self._buffer = self._buffer, defaultdict(list)
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                for channel, entries in pending.items():
                    key = keys.channel_log(channel)
                    pipe.lpush(key, *entries)
                    pipe.ltrim(key, 0, self.size - 1)
                    pipe.expire(key, self.ttl_s)
                await pipe.execute()
        except Exception:
            for channel, entries in pending.items():
                self._buffer[channel][:0] = entries
                del self._buffer[channel][: max(0, len(self._buffer[channel]) - self.size)]
            raise

    async def recent(self, channel: str, limit: int = 50) -> list[dict[str, Any]]:
        raw = await self.redis.lrange(keys.channel_log(channel), 0, limit - 1)
        return [orjson.loads(x) for x in raw]
