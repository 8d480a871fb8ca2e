"""Single-active services across processes: a lease in Redis that one process holds and renews.

The IMAP poller, the SMPP bind, the X mentions poller and Telegram long polling must run in
exactly one gateway process of a deployment (an SMSC may refuse or split a second bind,
Telegram answers 409 to a second poller). Every process runs the service; the one holding the
lease works, the others stand by and take over once it lapses (the holder died) or is released
(the holder stopped).
"""

from __future__ import annotations

import os
import time
from typing import Any

import redis.asyncio as aioredis

# renew / release only while we still hold it (another process may have taken over meanwhile)
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class LeaseLost(RuntimeError):
    """Another process holds the lease now (or Redis stayed unreachable past its expiry)."""


class Lease:
    def __init__(self, r: aioredis.Redis, key: str, ttl_ms: int) -> None:
        self.redis = r
        self.key = key
        self.ttl_ms = ttl_ms
        self.token = f"{os.getpid()}-{os.urandom(6).hex()}"
        self._renewed_at = 0.0  # monotonic time of the last successful take/renew

    async def hold(self) -> bool:
        """Take the lease if free, renew it if ours; False when another process holds it."""
        if await self.redis.set(self.key, self.token, nx=True, px=self.ttl_ms):
            self._renewed_at = time.monotonic()
            return True
        return await self.renew()

    async def renew(self) -> bool:
        """Extend the lease only if it is ours (never takes a free one): for a holder that waits."""
        ok = bool(await self.redis.eval(_RENEW, 1, self.key, self.token, self.ttl_ms))
        if ok:
            self._renewed_at = time.monotonic()
        return ok

    async def keep(self) -> None:
        """Renew for as long as the caller's work runs (a task next to it); raises ``LeaseLost``
        when another process holds the lease, or when Redis was unreachable for longer than the
        lease lasts (by then a standby may have taken it)."""
        import asyncio

        while True:
            await asyncio.sleep(self.ttl_ms / 3000)
            try:
                if not await self.hold():
                    raise LeaseLost(f"{self.key} is held by another process")
            except (aioredis.ConnectionError, aioredis.TimeoutError, OSError) as exc:
                if time.monotonic() - self._renewed_at > self.ttl_ms / 1000:
                    raise LeaseLost(f"{self.key}: Redis unreachable past the lease") from exc

    async def release(self) -> None:
        """Hand over at once (orderly stop): a standby takes it at its next try."""
        await self.redis.eval(_RELEASE, 1, self.key, self.token)

    async def holder(self) -> Any:
        return await self.redis.get(self.key)
