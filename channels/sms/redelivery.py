"""Suppression of SMSC redeliveries for the SMPP bind (docs/channels.md, SMS).

deliver_sm carries no message id, so each one gets a fresh ULID — and an SMSC that redelivers
(our resp was lost or late) would create a second record. A short-window key on a hash of the
PDU's content remembers the id minted first; the same PDU again within the window reuses it and
intake answers "duplicate". Concurrent checks are merged into one pipelined round trip
(``SET key id NX GET EX window`` each), like intake's group commit, so a full SMPP window costs
one Redis call and one connection instead of hundreds.
"""

from __future__ import annotations

import asyncio
from typing import Any

import redis.asyncio as aioredis

from channels.core.ingest import REDIS_ERRORS
from gateway import keys


def seen_key(digest: str) -> str:
    return keys.smpp_seen(digest)


class RedeliveryFilter:
    def __init__(self, r: aioredis.Redis, window_s: int) -> None:
        self.redis = r
        self.window_s = window_s
        self._queue: list[tuple[str, str, asyncio.Future[str]]] = []
        self._flushing = False

    async def native_id(self, digest: str, minted: str) -> str:
        """The id minted for this content within the window, else ``minted`` (also when Redis is down)."""
        fut: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._queue.append((digest, minted, fut))
        if not self._flushing:
            self._flushing = True
            asyncio.get_running_loop().call_soon(lambda: asyncio.ensure_future(self._flush()))
        return await fut

    async def _flush(self) -> None:
        try:
            while self._queue:
                batch, self._queue = self._queue[:500], self._queue[500:]
                try:
                    async with self.redis.pipeline(transaction=False) as pipe:
                        for digest, minted, _f in batch:
                            pipe.set(seen_key(digest), minted, nx=True, get=True, ex=self.window_s)
                        olds: list[Any] = await pipe.execute()
                except REDIS_ERRORS:
                    olds = [None] * len(batch)  # Redis down: the spool takes them under fresh ids
                for (_d, minted, fut), old in zip(batch, olds, strict=True):
                    if not fut.done():
                        fut.set_result(keys.text(old) or minted)
        finally:
            self._flushing = False
