"""The gateway's ``Ingest``: intake + metrics + channel log + quarantine, shared by every channel.

The HTTP endpoint wrapper and every poller/bind call this one object, so counters, channel-log
rows and quarantine entries look the same whichever way a message arrived.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import redis.asyncio as aioredis

from channels.core.inbound import DeliveryReport
from channels.core.ingest import REDIS_ERRORS, Accepted, IntakeUnavailable, tally
from dispatcher.delivery import StatusEngine
from gateway import keys, metrics
from gateway.channel_log import ChannelLog
from gateway.intake import Intake
from gateway.logging import scrub
from normalizer.models import InboundMessage

QUARANTINE_MAXLEN = 100_000
QUARANTINE_BODY_MAX = 1_000_000


def quarantine_fields(channel: str, reason: str, body: bytes, content_type: str | None) -> dict[str, Any]:
    """Stream fields for a request we could not parse but must not drop."""
    # the reason is shown to admins: scrubbed of personal data like every log line
    return {"channel": channel, "reason": scrub(reason[:2000])[:500], "content_type": content_type or "",
            "at": datetime.now(UTC).isoformat(), "body": body[:QUARANTINE_BODY_MAX]}


class GatewayIngest:
    def __init__(self, intake: Intake, channel_log: ChannelLog, r: aioredis.Redis) -> None:
        self.intake = intake
        self.channel_log = channel_log
        self.redis = r
        # set by the app (``build_app``): where delivery reports go; None ⇒ reports are refused (503)
        self.status_engine: StatusEngine | None = None

    async def store(self, channel: str, messages: Sequence[InboundMessage], *,
                    allow_spool: bool = True, started: float | None = None) -> list[Accepted]:
        if not messages:
            return []
        metrics.count(channel, "received", len(messages))
        try:
            results = await self.intake.accept(messages, allow_spool=allow_spool)
        except IntakeUnavailable:
            metrics.count(channel, "error", len(messages))
            raise
        counts = tally(results)
        metrics.count_many(channel, {"stored": counts["stored"], "duplicate": counts["duplicates"],
                                     "spooled": counts["spooled"]})
        if started is not None:
            metrics.ACCEPT_LATENCY.labels(channel).observe(time.perf_counter() - started)
        return results

    def skipped(self, channel: str, counts: Mapping[str, int]) -> None:
        for reason, n in counts.items():
            metrics.count(channel, f"skipped_{reason}", n)

    async def statuses(self, channel: str, reports: Sequence[DeliveryReport]) -> dict[str, int]:
        """Delivery reports → the status engine, each counted by status and by what became of it.

        Metrics per endpoint channel: ``status_<status>`` (received) and ``status_unknown`` (an id
        that is not ours: another system's message, or one whose keys expired). A report is not
        a complaint: Redis down ⇒ ``IntakeUnavailable`` (503) and the provider retries; no spool.
        """
        if not reports:
            return {}
        engine = self.status_engine
        if engine is None:
            raise IntakeUnavailable("no status engine")
        counts: Counter[str] = Counter()
        for rep in reports:
            try:
                outcomes = await engine.apply(rep)
            except REDIS_ERRORS as exc:
                metrics.count(channel, "status_error")
                raise IntakeUnavailable(f"Redis unavailable for statuses: {type(exc).__name__}") from None
            except ValueError:  # a status outside the contract: the adapter's bug, counted not raised
                outcomes = ["invalid"]
            counts[f"status_{rep.status}"] += 1
            for outcome in outcomes:
                if outcome in ("unknown", "invalid"):
                    counts[f"status_{outcome}"] += 1
        for name, n in counts.items():
            metrics.count(channel, name, n)
        return dict(counts)

    async def quarantine(self, channel: str, reason: str, body: bytes, content_type: str | None) -> None:
        fields = quarantine_fields(channel, reason, body, content_type)
        await self.redis.xadd(keys.QUARANTINE_STREAM, fields,  # type: ignore[arg-type]
                              maxlen=QUARANTINE_MAXLEN, approximate=True)
        metrics.count(channel, "quarantined")

    def log(self, channel: str, *, status: int, started: float, method: str, path: str,
            error: str | None = None, **counts: Any) -> None:
        self.channel_log.record(channel, status=status, latency_ms=(time.perf_counter() - started) * 1000,
                                method=method, path=path, error=error, **counts)
