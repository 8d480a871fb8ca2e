"""Long-running channel services (IMAP poller, SMPP bind, X mentions poller, Telegram polling).

A service runs one loop with reconnect/backoff and publishes its state — for health, the
dashboard and ``lapor-gateway status``, whichever process asks — to ``lapor:state:<name>``
(a JSON document with a TTL, so a dead process's state expires instead of lying). It gets a
``ServiceContext`` from ``serve``: settings, Redis, and the ``Ingest`` path for its messages.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import TYPE_CHECKING, Any, Protocol

import orjson
import redis.asyncio as aioredis

from channels.core.ingest import Ingest
from gateway import keys
from gateway.logging import get_logger, scrub

if TYPE_CHECKING:
    from config.settings import Settings

log = get_logger("channels.service")

STATE_TTL_S = 60


class PollError(Exception):
    """A service round failed. ``error_kind`` (shown on the dashboard): ``auth`` (needs new
    credentials), ``transient`` (network, 5xx; retried with backoff) or ``invalid`` (bad input)."""

    error_kind = "transient"

    def __init__(self, reason: str = "", error_kind: str | None = None) -> None:
        super().__init__(reason)
        if error_kind is not None:
            self.error_kind = error_kind


class ServiceContext(Protocol):
    """What a running gateway gives its services."""

    settings: Settings
    redis: aioredis.Redis
    ingest: Ingest


class Service:
    """Subclasses implement ``run_once`` (connect and work until an error) and set ``self.state``."""

    name = "service"
    channel = "unknown"

    def __init__(self, r: aioredis.Redis) -> None:
        self.redis = r
        self.state: dict[str, Any] = {"state": "starting", "last_error": None, "error_kind": None}
        self._task: asyncio.Task[None] | None = None
        self._publisher: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self.backoff_initial_s = 1.0
        self.backoff_max_s = 60.0

    # ------------------------------------------------------------------ to implement
    async def run_once(self) -> None:
        raise NotImplementedError

    async def close(self) -> None:
        """Release connections (called on stop)."""

    # ------------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"service-{self.name}")
        self._publisher = asyncio.create_task(self._publish_loop(), name=f"state-{self.name}")

    async def stop(self) -> None:
        self._stopping.set()
        for t in (self._task, self._publisher):
            if t is not None:
                await _cancel(t)
        with contextlib.suppress(Exception):
            await self.close()
        self.set_state("stopped")
        with contextlib.suppress(Exception):
            await self.publish()

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def set_state(self, state: str, **fields: Any) -> None:
        self.state.update(fields, state=state, since=self.state.get("since") if
                          self.state.get("state") == state else time.time())

    def record_error(self, exc: BaseException, kind: str = "transient") -> None:
        """``kind``: auth (needs new credentials), transient (network, 5xx), invalid (bad input)."""
        self.state.update(last_error=scrub(f"{type(exc).__name__}: {exc}")[:300], error_kind=kind,
                          last_error_at=time.time())

    async def _run(self) -> None:
        delay = self.backoff_initial_s
        while not self.stopping:
            started = time.monotonic()
            try:
                await self.run_once()
                delay = self.backoff_initial_s
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.record_error(exc, getattr(exc, "error_kind", "transient"))
                self.set_state("backoff", retry_in_s=round(delay, 1))
                log.warning("service.error", service=self.name, error=type(exc).__name__,
                            retry_in_s=round(delay, 1))
            if self.stopping:
                break
            if time.monotonic() - started > 60:
                delay = self.backoff_initial_s  # it ran fine for a while: start the backoff over
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=delay)
            delay = min(delay * 2, self.backoff_max_s)

    async def publish(self) -> None:
        doc = dict(self.state, name=self.name, channel=self.channel, updated=time.time())
        await self.redis.set(keys.state(f"service:{self.name}"), orjson.dumps(doc), ex=STATE_TTL_S)

    async def _publish_loop(self) -> None:
        while True:
            with contextlib.suppress(Exception):
                await self.publish()
            await asyncio.sleep(2)


async def _cancel(t: asyncio.Task[None]) -> None:
    """Cancel ``t`` and wait for it — again if the cancellation was swallowed (redis-py 8 can eat
    one that lands inside a command; a plain ``await t`` then waits forever)."""
    for _ in range(10):
        t.cancel()
        done, _pending = await asyncio.wait({t}, timeout=1)
        if done:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                t.result()
            return

