"""The one way a channel hands messages to the gateway: the ``Ingest`` interface.

HTTP endpoints reach it through the endpoint wrapper; pollers and binds (IMAP, SMPP, X mentions,
Telegram long polling) get it from the service context. It counts received/stored/duplicate/
spooled, writes the channel log and the quarantine, so every channel reports the same way.
The implementation lives in ``gateway.ingest``; channels only see this protocol.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol

import redis.exceptions

from normalizer.models import InboundMessage

if TYPE_CHECKING:
    from channels.core.inbound import DeliveryReport

Status = Literal["new", "duplicate", "spooled"]
# what a Redis call may raise when Redis is down or slow
REDIS_ERRORS: tuple[type[BaseException], ...] = (redis.exceptions.RedisError, OSError, asyncio.TimeoutError)

# channel-log status vocabulary, for HTTP calls and polls alike (HTTP status codes)
OK = 200
ACCEPTED = 202
BAD_INPUT = 400
UPSTREAM_ERROR = 502  # the provider (IMAP server, X API, Bot API, SMSC) failed
UNAVAILABLE = 503  # intake (Redis and spool) could not take the messages


@dataclass(frozen=True)
class Accepted:
    record_id: str
    status: Status

    @property
    def duplicate(self) -> bool:
        return self.status == "duplicate"


class IntakeUnavailable(RuntimeError):
    """Neither Redis nor the spool could take the message: the provider must retry (503)."""


class Ingest(Protocol):
    async def store(self, channel: str, messages: Sequence[InboundMessage], *,
                    allow_spool: bool = True, started: float | None = None) -> list[Accepted]:
        """Store durably (or recognise duplicates) and count; ``IntakeUnavailable`` if impossible.

        Pollers pass ``allow_spool=False`` so that they back off without advancing checkpoints.
        """

    def skipped(self, channel: str, counts: Mapping[str, int]) -> None:
        """Count events that are not complaints (echo, receipt, …), by reason."""

    async def statuses(self, channel: str, reports: Sequence[DeliveryReport]) -> dict[str, int]:
        """Record delivery reports (DLRs, receipts, webhook statuses) before the provider is answered.

        Returns channel-log counts (``status_<status>``, ``status_unknown`` for ids that are not
        ours). Raises ``IntakeUnavailable`` when Redis is down: the provider retries (503). A
        report is not a complaint, so there is no spool for it.
        """

    async def quarantine(self, channel: str, reason: str, body: bytes, content_type: str | None) -> None:
        """Keep input we could not parse (a parser bug) for a human; raises a ``REDIS_ERRORS`` error."""

    def log(self, channel: str, *, status: int, started: float, method: str, path: str,
            error: str | None = None, **counts: Any) -> None:
        """One channel-log row (``started``: ``time.perf_counter()`` when the call began)."""


def tally(results: Sequence[Accepted]) -> dict[str, int]:
    """Channel-log counts of one store call."""
    return {"stored": sum(1 for r in results if r.status == "new"),
            "duplicates": sum(1 for r in results if r.status == "duplicate"),
            "spooled": sum(1 for r in results if r.status == "spooled")}
