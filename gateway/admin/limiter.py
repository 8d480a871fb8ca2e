"""The admin login limiter: atomic, fail-closed, per client address and account.

One Lua call increments first and answers the count, so 50 parallel guesses cannot all read
"9 failures" before any of them writes. Every attempt counts (a success then clears the key):
a guesser cannot learn anything between increments. If Redis cannot answer, the login is
refused (503): no limiter must never mean no limit. The key holds the client address as seen
through trusted proxies (``gateway.proxy``) and the account, so behind a proxy one attacker
locks out only themselves, not every admin.
"""

from __future__ import annotations

import contextlib
import hashlib

import redis.asyncio as aioredis

from gateway import keys
from gateway.intake import REDIS_ERRORS

MAX_ATTEMPTS = 10  # attempts per client and account per BLOCK_S
BLOCK_S = 300

_INCR = """
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return n
"""


class LimiterUnavailable(RuntimeError):
    """Redis did not answer: refuse the attempt."""


def limiter_key(client: str, account: str) -> str:
    digest = hashlib.sha256(f"{account}\x00{client}".encode("utf-8", "surrogateescape")).hexdigest()[:32]
    return keys.rate("admin-login", digest)


class LoginLimiter:
    def __init__(self, r: aioredis.Redis, max_attempts: int = MAX_ATTEMPTS, block_s: int = BLOCK_S) -> None:
        self.redis, self.max_attempts, self.block_s = r, max_attempts, block_s
        self._script = r.register_script(_INCR)

    async def attempt(self, client: str, account: str) -> bool:
        """Count this attempt; True when it may be checked, False when over the limit."""
        try:
            n = int(await self._script(keys=[limiter_key(client, account)], args=[self.block_s]))
        except REDIS_ERRORS as exc:
            raise LimiterUnavailable(type(exc).__name__) from None
        return n <= self.max_attempts

    async def succeeded(self, client: str, account: str) -> None:
        with contextlib.suppress(*REDIS_ERRORS):
            await self.redis.delete(limiter_key(client, account))
