"""Running gateways publish what they serve, so ``status`` and the dashboard tell the truth.

Each ``serve`` process writes ``lapor:gateway:<host>:<pid>`` — its version, start time and the
enabled channels with their reasons — every ``PUBLISH_EVERY_S`` with a TTL of ``TTL_S``: a
gateway that died disappears instead of lying. ``lapor-gateway status`` (run from any shell,
with any environment) and the health model read these documents, not the caller's settings.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import time
from typing import Any

import orjson
import redis.asyncio as aioredis

from config.settings import ChannelStatus, Settings
from config.version import __version__
from gateway import keys
from gateway.intake import REDIS_ERRORS

PREFIX = keys.GATEWAY_PRESENCE_PREFIX
TTL_S = 30
PUBLISH_EVERY_S = 10.0


def instance_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class Presence:
    def __init__(self, r: aioredis.Redis, settings: Settings, name: str | None = None) -> None:
        self.redis, self.settings = r, settings
        self.name = name or instance_name()
        self.started_at = time.time()
        self._task: asyncio.Task[None] | None = None

    def document(self) -> dict[str, Any]:
        return {"instance": self.name, "version": __version__, "started_at": self.started_at,
                "published_at": time.time(),
                "channels": [{"name": c.name, "enabled": c.enabled, "reason": c.reason}
                             for c in self.settings.channel_statuses()]}

    async def publish(self) -> None:
        await self.redis.set(PREFIX + self.name, orjson.dumps(self.document()), ex=TTL_S)

    async def start(self) -> None:
        with contextlib.suppress(*REDIS_ERRORS):
            await self.publish()
        self._task = asyncio.create_task(self._loop(), name="gateway-presence")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        with contextlib.suppress(*REDIS_ERRORS):
            await self.redis.delete(PREFIX + self.name)

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(PUBLISH_EVERY_S)
            with contextlib.suppress(*REDIS_ERRORS):
                await self.publish()


async def read_gateways(r: aioredis.Redis) -> list[dict[str, Any]]:
    """Every live gateway's document (expired ones are gone)."""
    out: list[dict[str, Any]] = []
    async for key in r.scan_iter(match=PREFIX + "*", count=100):
        raw = await r.get(key)
        if raw:
            with contextlib.suppress(orjson.JSONDecodeError):
                out.append(orjson.loads(raw))
    return sorted(out, key=lambda d: str(d.get("instance")))


def published_statuses(gateways: list[dict[str, Any]]) -> list[ChannelStatus] | None:
    """The channels as the running gateways serve them: enabled if any gateway enables it.
    None when no gateway is running (then nothing is known about what is served)."""
    if not gateways:
        return None
    merged: dict[str, ChannelStatus] = {}
    for g in gateways:
        for c in g.get("channels") or []:
            name = str(c.get("name"))
            cur = merged.get(name)
            st = ChannelStatus(name, bool(c.get("enabled")), str(c.get("reason", "")))
            if cur is None or (st.enabled and not cur.enabled):
                merged[name] = st
    return list(merged.values())
