"""A short-lived, capped log of inbound requests per channel, for admins.

Entries carry timing, status and a scrubbed error; never bodies, query strings or secrets.
Writes are buffered and flushed in one pipeline so the webhook path pays no extra round trip.
A request only appends a tuple to a capped buffer: scrubbing and JSON happen at flush time, for
the newest ``size`` entries only (at thousands of requests a second most rows are dropped by the
cap before they are ever written, so building them per request was wasted work).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import defaultdict, deque
from functools import lru_cache
from typing import Any

import orjson
import redis.asyncio as aioredis

from gateway import keys, request_id
from gateway.logging import scrub

# (unix time, status, latency ms, method, path, error, request id, counts): built at flush time
_Row = tuple[float, "int | str", float, str, str, "str | None", "str | None", dict[str, Any]]


@lru_cache(maxsize=1024)
def _scrubbed_path(path: str) -> str:
    """Routes are few and fixed: scrub each path once (bounded for routes with variable parts)."""
    return scrub(path)


def _entry(row: _Row) -> bytes:
    t, status, latency_ms, method, path, error, rid, counts = row
    entry = {"t": round(t, 3), "status": status, "ms": round(latency_ms, 2), "method": method,
             "path": _scrubbed_path(path), "error": scrub(error) if error else None, "request_id": rid}
    entry.update({k: v for k, v in counts.items() if v})
    return orjson.dumps(entry)


class ChannelLog:
    def __init__(self, r: aioredis.Redis, *, size: int = 200, ttl_s: int = 86400,
                 flush_interval_s: float = 0.5) -> None:
        self.redis = r
        self.size = size
        self.ttl_s = ttl_s
        self.flush_interval_s = flush_interval_s
        self._buffer: dict[str, deque[_Row]] = {}
        self._task: asyncio.Task[None] | None = None

    def record(self, channel: str, *, status: int | str, latency_ms: float, method: str = "",
               path: str = "", error: str | None = None, **counts: Any) -> None:
        buf = self._buffer.get(channel)
        if buf is None:
            buf = self._buffer[channel] = deque(maxlen=self.size)
        buf.append((time.time(), status, latency_ms, method, path, error, request_id.current.get(), counts))

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
        rows, self._buffer = self._buffer, {}
        pending: dict[str, list[bytes]] = defaultdict(list)
        for channel, buf in rows.items():
            pending[channel] = [_entry(row) for row in buf]
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                for channel, entries in pending.items():
                    key = keys.channel_log(channel)
                    pipe.lpush(key, *entries)
                    pipe.ltrim(key, 0, self.size - 1)
                    pipe.expire(key, self.ttl_s)
                await pipe.execute()
        except Exception:
            for channel, old in rows.items():  # keep the newest ``size`` rows, older first
                newer = self._buffer.get(channel, ())
                self._buffer[channel] = deque([*old, *newer], maxlen=self.size)
            raise

    async def recent(self, channel: str, limit: int = 50) -> list[dict[str, Any]]:
        raw = await self.redis.lrange(keys.channel_log(channel), 0, limit - 1)
        return [orjson.loads(x) for x in raw]
