"""Every Redis client of the gateway is built here, from the settings.

One place decides where Redis is (an external URL, the embedded server's socket, or the primary
that Redis Sentinel names), how long a command may take and how a client rides out a failover:
connection errors are retried with a short backoff, and under Sentinel each new connection
asks the Sentinels for the current primary, so every process — HTTP, workers, CLI — follows a
promotion without a restart. Callers that must not wait (intake) see the error after a bounded
number of attempts and fall back to the spool.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import redis
import redis.asyncio as aioredis
import redis.asyncio.retry
import redis.asyncio.sentinel
import redis.retry
import redis.sentinel
from redis.backoff import ExponentialWithJitterBackoff

from config.settings import Settings

# A failover on Sentinel's side takes down-after-milliseconds + an election (seconds); a client
# only needs to bridge the moment a connection breaks: retry a few times, quickly, then let the
# caller decide (intake spools, workers loop, the CLI reports).
RETRIES = 3
BACKOFF_BASE_S = 0.05
BACKOFF_CAP_S = 0.5
RETRY_ON = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)

# socket limits shared by every client
_OPTIONS: dict[str, Any] = {"socket_timeout": 5, "socket_connect_timeout": 2, "health_check_interval": 15}


def embedded_socket_url(settings: Settings) -> str:
    """The unix socket of the Redis that ``serve`` embeds (``LAPOR_DATA_DIR/redis/redis.sock``)."""
    sock = (Path(settings.data_dir) / "redis" / "redis.sock").resolve()
    return f"unix://{sock}"


def main_url(settings: Settings) -> str | None:
    """The URL of the gateway's Redis, or None when Sentinel names the primary."""
    if settings.redis_sentinels:
        return None
    return settings.redis_url or embedded_socket_url(settings)


def _async_retry() -> redis.asyncio.retry.Retry:
    return redis.asyncio.retry.Retry(ExponentialWithJitterBackoff(cap=BACKOFF_CAP_S, base=BACKOFF_BASE_S),
                                     RETRIES, supported_errors=RETRY_ON)


def _sync_retry() -> redis.retry.Retry:
    return redis.retry.Retry(ExponentialWithJitterBackoff(cap=BACKOFF_CAP_S, base=BACKOFF_BASE_S), RETRIES,
                             supported_errors=RETRY_ON)


def _sentinel_kwargs(settings: Settings) -> dict[str, Any]:
    out: dict[str, Any] = {"socket_timeout": 1, "socket_connect_timeout": 1}
    password = Settings.secret(settings.redis_sentinel_password)
    if password:
        out["password"] = password
    return out


def _data_password(settings: Settings) -> dict[str, Any]:
    password = Settings.secret(settings.redis_password)
    return {"password": password} if password else {}


class _SentinelManagedRedis(aioredis.Redis):
    """The primary's client; closing it also closes the Sentinel clients that found the primary."""

    sentinel_manager: redis.asyncio.sentinel.Sentinel | None = None

    async def aclose(self, close_connection_pool: bool | None = None) -> None:
        await super().aclose(close_connection_pool)
        if self.sentinel_manager is not None:
            await self.sentinel_manager.aclose()


def connect(settings: Settings, url: str | None = None, *, max_connections: int = 1024) -> aioredis.Redis:
    """The asyncio client of the gateway's Redis: ``url`` when given, else Sentinel's primary
    when ``LAPOR_REDIS_SENTINELS`` is set, else ``LAPOR_REDIS_URL`` or the embedded socket.

    A generous pool by default: intake batches its writes, but pollers, binds and admin pages share
    the client, and an exhausted pool would look like "Redis down" to intake (it would spool).
    """
    if url is None and settings.redis_sentinels:
        sentinel = redis.asyncio.sentinel.Sentinel(settings.sentinel_addresses,
                                                   sentinel_kwargs=_sentinel_kwargs(settings))
        client: _SentinelManagedRedis = sentinel.master_for(
            settings.redis_sentinel_service, redis_class=_SentinelManagedRedis, retry=_async_retry(),
            max_connections=max_connections, **_OPTIONS, **_data_password(settings))
        client.sentinel_manager = sentinel
        return client
    return from_url(url or main_url(settings) or "", max_connections=max_connections)


def from_url(url: str, *, max_connections: int = 1024) -> aioredis.Redis:
    """An asyncio client for one explicit URL (the embedded server, a separate core Redis)."""
    return aioredis.Redis.from_url(url, retry=_async_retry(), max_connections=max_connections, **_OPTIONS)


def connect_core(settings: Settings, main: aioredis.Redis) -> aioredis.Redis:
    """The national core queue's Redis: ``LAPOR_CORE_REDIS_URL``, else the gateway's own (``main``),
    which under Sentinel follows the primary."""
    if settings.core_redis_url:
        return from_url(settings.core_redis_url)
    return main


def connect_sync(settings: Settings, url: str | None = None) -> redis.Redis:
    """The blocking client (RQ tooling, scripts) with the same placement and retry rules."""
    if url is None and settings.redis_sentinels:
        sentinel = redis.sentinel.Sentinel(settings.sentinel_addresses, sentinel_kwargs=_sentinel_kwargs(settings))
        client: redis.Redis = sentinel.master_for(settings.redis_sentinel_service, retry=_sync_retry(),
                                                  **_OPTIONS, **_data_password(settings))
        return client
    return redis.Redis.from_url(url or main_url(settings) or "", retry=_sync_retry(), **_OPTIONS)


def connect_core_sync(settings: Settings) -> redis.Redis:
    """Blocking client of the core queue's Redis (e.g. for an ``rq`` worker or a check script)."""
    return connect_sync(settings, settings.core_redis_url) if settings.core_redis_url else connect_sync(settings)


async def ensure_group(r: aioredis.Redis, stream: str, group: str) -> None:
    """Create consumer ``group`` on ``stream`` (and the stream) from its start; a no-op if it exists.

    A Redis at ``maxmemory`` refuses XGROUP CREATE before it would answer BUSYGROUP; the group being
    there already is all a consumer needs (reading and XACK still work when Redis is full)."""
    try:
        await r.xgroup_create(stream, group, id="0", mkstream=True)
    except redis.exceptions.OutOfMemoryError:
        groups: Any = await r.xinfo_groups(stream) if await r.exists(stream) else []
        names = {g.get("name") for g in groups}
        if group not in names and group.encode() not in names:
            raise
    except redis.exceptions.ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise
