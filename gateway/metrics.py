"""Gateway metrics, aggregated in Redis so they are right across every gateway and worker process.

Why Redis and not prometheus-client's multiprocess mode: the health model needs the same
counters as a per-channel history (per minute for the last hours, per hour for four weeks)
that every process — and ``lapor-gateway status``, which runs none — can read; multiprocess
files are per host and hold no history. So every process counts into an in-memory buffer
(``count`` is a dict update: the webhook path pays no extra round trip) and a flusher moves the
buffer to Redis in one pipeline about once a second. ``/metrics`` reads the totals back
through a custom collector. If Redis is down the buffer keeps the counts and flushes them later.

The objects ``EVENTS``, ``ACCEPT_LATENCY``, ``E2E_LATENCY``, ``DISPATCHED``, ``DEAD_LETTERS``
and ``ACKS`` keep the prometheus-client call shape (``.labels(...).inc()`` / ``.observe()``).
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import platform
import time
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import redis.asyncio as aioredis
from prometheus_client import CollectorRegistry, Gauge, Info, PlatformCollector, ProcessCollector
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

from config.version import __version__
from gateway import keys
from gateway.logging import get_logger

log = get_logger("gateway.metrics")

REGISTRY = CollectorRegistry(auto_describe=True)

TOTALS_PREFIX = keys.METRICS_TOTALS_PREFIX  # hash per counter: label values joined by SEP -> count
HIST_PREFIX = keys.METRICS_HIST_PREFIX  # hash per histogram: "<labels>|<bucket index>", "|sum", "|count"
MINUTE_PREFIX = keys.METRICS_MINUTE_PREFIX  # <channel>:<hour> hash "<minute>|<outcome>" -> n
HOUR_PREFIX = keys.METRICS_HOUR_PREFIX  # lapor:metrics:h:<channel>:<hour epoch> hash outcome -> count
LAST_SEEN = keys.METRICS_LAST_SEEN  # zset channel -> unix time of the newest message
FIRST_SEEN = keys.METRICS_FIRST_SEEN  # hash channel -> unix time the channel's history starts
SEP = "|"
MINUTE_TTL_S = 26 * 3600
HOUR_TTL_S = 36 * 86400
# outcomes that mean "a citizen message arrived" (volume, last message time)
VOLUME_OUTCOMES = ("received", "dispatched")


@dataclass
class _Buffer:
    counters: dict[tuple[str, str], float] = field(default_factory=lambda: defaultdict(float))
    hist: dict[tuple[str, str], float] = field(default_factory=lambda: defaultdict(float))
    minutes: dict[tuple[str, int, str], int] = field(default_factory=lambda: defaultdict(int))
    last: dict[str, float] = field(default_factory=dict)

    def empty(self) -> bool:
        return not (self.counters or self.hist or self.minutes or self.last)

    def merge(self, other: _Buffer) -> None:
        for k, v in other.counters.items():
            self.counters[k] += v
        for k, v in other.hist.items():
            self.hist[k] += v
        for k2, n in other.minutes.items():
            self.minutes[k2] += n
        for ch, t in other.last.items():
            self.last[ch] = max(t, self.last.get(ch, 0.0))


_buf = _Buffer()


def _labels_key(values: Sequence[str]) -> str:
    return SEP.join(str(v) for v in values)


class _CounterChild:
    def __init__(self, name: str, key: str, channel: str | None, outcome: str | None) -> None:
        self._name, self._key, self._channel, self._outcome = name, key, channel, outcome

    def inc(self, amount: float = 1) -> None:
        if not amount:
            return
        _buf.counters[(self._name, self._key)] += amount
        if self._channel is not None and self._outcome is not None:
            record_at(self._channel, self._outcome, int(amount))


class RedisCounter:
    """A labelled counter summed in Redis; with ``history`` its channel/outcome also feed the history."""

    def __init__(self, name: str, documentation: str, labelnames: Sequence[str] = (), *,
                 history: bool = True, history_outcome: str | None = None) -> None:
        self.name, self.documentation, self.labelnames = name, documentation, tuple(labelnames)
        self.history, self.history_outcome = history, history_outcome
        _COUNTERS.append(self)

    def labels(self, *values: str, **named: str) -> _CounterChild:
        if named:  # prometheus-client also accepts the labels by name
            values = tuple(str(named[n]) for n in self.labelnames)
        if len(values) != len(self.labelnames):
            raise ValueError(f"{self.name}: expected labels {self.labelnames}")
        channel = outcome = None
        if self.history and "channel" in self.labelnames:
            channel = values[self.labelnames.index("channel")]
            outcome = values[self.labelnames.index("outcome")] if "outcome" in self.labelnames \
                else self.history_outcome
        return _CounterChild(self.name, _labels_key(values), channel, outcome)

    def inc(self, amount: float = 1) -> None:
        self.labels().inc(amount)


class _HistChild:
    def __init__(self, hist: RedisHistogram, key: str) -> None:
        self._h, self._key = hist, key
        # the buffer keys, made once per labelled child rather than three f-strings per observation
        name = hist.name
        self._bucket_keys = tuple((name, f"{key}{SEP}{i}") for i in range(len(hist.buckets) + 1))
        self._sum_key, self._count_key = (name, f"{key}{SEP}sum"), (name, f"{key}{SEP}count")

    def observe(self, value: float) -> None:
        hist = _buf.hist
        hist[self._bucket_keys[bisect.bisect_left(self._h.buckets, value)]] += 1
        hist[self._sum_key] += value
        hist[self._count_key] += 1


class RedisHistogram:
    def __init__(self, name: str, documentation: str, labelnames: Sequence[str], buckets: Sequence[float]) -> None:
        self.name, self.documentation, self.labelnames = name, documentation, tuple(labelnames)
        self.buckets = tuple(float(b) for b in buckets)
        self._children: dict[tuple[str, ...], _HistChild] = {}  # label values -> child (few: channels)
        _HISTOGRAMS.append(self)

    def labels(self, *values: str, **named: str) -> _HistChild:
        if named:
            values = tuple(str(named[n]) for n in self.labelnames)
        child = self._children.get(values)
        if child is None:
            child = self._children[values] = _HistChild(self, _labels_key(values))
        return child


_COUNTERS: list[RedisCounter] = []
_HISTOGRAMS: list[RedisHistogram] = []

EVENTS = RedisCounter(
    "lapor_channel_events",
    "Inbound events per channel and outcome (received, stored, duplicate, rejected_auth, "
    "rejected_invalid, skipped_<reason>, error, spooled, quarantined)",
    ["channel", "outcome"],
)
ACCEPT_LATENCY = RedisHistogram(
    "lapor_accept_latency_seconds", "Provider request to durable accept, per channel", ["channel"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
E2E_LATENCY = RedisHistogram(
    "lapor_end_to_end_latency_seconds", "Accept to core queue, per channel", ["channel"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
)
DISPATCHED = RedisCounter("lapor_dispatched", "Records enqueued into the core queue", ["channel"],
                          history_outcome="dispatched")
DEAD_LETTERS = RedisCounter("lapor_dead_letters", "Stream entries moved to lapor:dead")
DEAD_LETTERS_HELD = RedisCounter("lapor_dead_letters_held",
                                 "Dead letters kept pending on the stream because lapor:dead is full")
# acknowledgement outcomes (sent, retry, dead, suppressed) are not inbound events: no history
ACKS = RedisCounter("lapor_acks", "Outbound acknowledgements per channel and outcome", ["channel", "outcome"],
                    history=False)
# two-way: statuses of messages to citizens (the core's and the gateway's own), once per status change
OUTBOUND = RedisCounter("lapor_outbound", "Messages to citizens per channel and status reached "
                        "(sent, delivered, read, failed)", ["channel", "status"], history=False)
OUTBOUND_FAILED = RedisCounter("lapor_outbound_failed", "Messages to citizens failed per channel and error code "
                               "(window_closed, no_route, provider_error, ...)", ["channel", "code"], history=False)


def count_outbound(channel: str, status: str, error: dict[str, object] | None = None) -> None:
    """One status change the delivery engine accepted (never called for a stale or repeated one)."""
    if channel and status != "queued":
        OUTBOUND.labels(channel, status).inc()
        if status == "failed":
            OUTBOUND_FAILED.labels(channel, str((error or {}).get("code") or "unknown")).inc()


# scrape-time gauges (set by /metrics from Redis; process-local is right for them), one series per meaning
PIPELINE_GAUGES: dict[str, Gauge] = {
    key: Gauge(name, doc, registry=REGISTRY) for key, name, doc in (
        ("stream_length", "lapor_stream_length", "Entries kept in the inbound stream (acknowledged or not)"),
        ("stream_backlog", "lapor_stream_backlog", "Inbound entries no dispatcher has read yet"),
        ("pending", "lapor_stream_pending", "Inbound entries read by a dispatcher and not yet committed"),
        ("dead_letters", "lapor_dead_letters_waiting", "Entries in lapor:dead waiting for a replay"),
        ("core_queue_depth", "lapor_core_queue_depth", "Jobs waiting in the LAPOR core RQ queue"),
        ("outbound_queue", "lapor_outbound_queue", "Acknowledgements waiting to be sent"),
        ("outbound_retry", "lapor_outbound_retry", "Acknowledgements waiting for a retry"),
        ("outbound_dead", "lapor_outbound_dead",
         "Messages to citizens (acknowledgements and core messages) in lapor:outbound:dead"),
        ("outbound_backlog", "lapor_outbound_backlog",
         "Core messages to citizens on lapor:outbound no sender has read yet"),
        ("outbound_in_flight", "lapor_outbound_in_flight", "Core messages read by a sender and not finished"),
        ("outbound_later", "lapor_outbound_waiting", "Core messages waiting for a retry or the per-citizen cap"),
        ("workers_alive", "lapor_workers_alive", "Dispatcher workers with a recent heartbeat"),
        ("gateways_alive", "lapor_gateways_alive", "Gateway (serve) processes that published their presence"),
        ("quarantined", "lapor_quarantine_length", "Requests kept in lapor:quarantine (parser failures)"),
        ("redis_up", "lapor_redis_up", "1 when this gateway reaches its Redis"),
        ("spool_pending", "lapor_spool_pending", "Messages in this gateway's local spool waiting for Redis"),
    )
}
BUILD_INFO = Info("lapor_build", "Version of the running gateway", registry=REGISTRY)
BUILD_INFO.info({"version": __version__, "python": platform.python_version()})
ProcessCollector(registry=REGISTRY)  # process_cpu_seconds_total, process_resident_memory_bytes, fds, start time
PlatformCollector(registry=REGISTRY)


def set_pipeline(numbers: dict[str, float]) -> None:
    """Set the pipeline gauges known by name (unknown keys are ignored)."""
    for key, value in numbers.items():
        gauge = PIPELINE_GAUGES.get(key)
        if gauge is not None:
            gauge.set(value)


SERVICE_UP = Gauge("lapor_service_state", "Poller/bind state (1 for the current state)",
                   ["service", "channel", "state"], registry=REGISTRY)
CHANNEL_STATE = Gauge("lapor_channel_health", "Channel health (1 for the current state)", ["channel", "state"],
                      registry=REGISTRY)


def count(channel: str, outcome: str, n: int = 1) -> None:
    """The one call adapters make: count ``n`` events of ``outcome`` on ``channel`` (two dict updates)."""
    if n:
        _buf.counters[(EVENTS.name, f"{channel}{SEP}{outcome}")] += n
        record_at(channel, outcome, n)


def count_many(channel: str, counts: dict[str, int]) -> None:
    """``count`` for several outcomes of one event at once (one clock read: the accept path's)."""
    t = time.time()
    minute = int(t // 60) * 60
    counters, minutes = _buf.counters, _buf.minutes
    for outcome, n in counts.items():
        if n:
            counters[(EVENTS.name, f"{channel}{SEP}{outcome}")] += n
            minutes[(channel, minute, outcome)] += n
            if outcome in VOLUME_OUTCOMES:
                _buf.last[channel] = max(t, _buf.last.get(channel, 0.0))


def record_at(channel: str, outcome: str, n: int = 1, at: float | None = None) -> None:
    """Add to the per-minute history only (``at`` lets tests and imports write the past)."""
    if not n:
        return
    t = time.time() if at is None else at
    _buf.minutes[(channel, int(t // 60) * 60, outcome)] += n
    if outcome in VOLUME_OUTCOMES:
        _buf.last[channel] = max(t, _buf.last.get(channel, 0.0))


# ---------------------------------------------------------------------------------------------- flush
async def flush(r: aioredis.Redis) -> None:
    """Move the buffer to Redis in one pipeline; on failure the counts go back into the buffer."""
    global _buf
    if _buf.empty():
        return
    pending, _buf = _buf, _Buffer()
    try:
        async with r.pipeline(transaction=False) as pipe:
            for (name, key), v in pending.counters.items():
                pipe.hincrbyfloat(TOTALS_PREFIX + name, key, v)
            for (name, key), v in pending.hist.items():
                pipe.hincrbyfloat(HIST_PREFIX + name, key, v)
            hours: dict[tuple[str, int, str], int] = defaultdict(int)
            firsts: dict[str, int] = {}
            for (channel, minute, outcome), n in pending.minutes.items():
                mkey = f"{MINUTE_PREFIX}{channel}:{minute // 3600 * 3600}"  # one key per hour: cheap to read
                pipe.hincrby(mkey, f"{minute}{SEP}{outcome}", n)
                pipe.expire(mkey, MINUTE_TTL_S)
                hours[(channel, minute // 3600 * 3600, outcome)] += n
                firsts[channel] = min(minute, firsts.get(channel, minute))
            for (channel, hour, outcome), n in hours.items():
                hkey = f"{HOUR_PREFIX}{channel}:{hour}"
                pipe.hincrby(hkey, outcome, n)
                pipe.expire(hkey, HOUR_TTL_S)
            for channel, first in firsts.items():
                pipe.hsetnx(FIRST_SEEN, channel, first)
            if pending.last:
                pipe.zadd(LAST_SEEN, pending.last, gt=True)
            await pipe.execute()
        # a history seeded from the past must move "first seen" back
        for channel, first in firsts.items():
            cur = await r.hget(FIRST_SEEN, channel)
            if cur is not None and int(float(cur)) > first:
                await r.hset(FIRST_SEEN, channel, first)
    except Exception:
        pending.merge(_buf)
        _buf = pending
        raise


class Flusher:
    """Flushes the process-wide buffer every ``interval_s``; start one per process (ref-counted)."""

    _active: Flusher | None = None
    _refs = 0

    def __init__(self, r: aioredis.Redis, interval_s: float = 1.0) -> None:
        self.redis, self.interval_s = r, interval_s
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()

    @classmethod
    async def acquire(cls, r: aioredis.Redis, interval_s: float = 1.0) -> Flusher:
        active = cls._active
        if active is None or active._task is None or active._task.done() \
                or active._task.get_loop() is not asyncio.get_running_loop():  # e.g. a test's loop that ended
            active = Flusher(r, interval_s)
            active._task = asyncio.create_task(active._loop(), name="metrics-flusher")
            cls._active, cls._refs = active, 0
        cls._refs += 1
        return active

    async def release(self) -> None:
        cls = type(self)
        cls._refs -= 1
        if cls._refs > 0 and cls._active is self:
            with contextlib.suppress(Exception):
                await flush(self.redis)
            return
        self._stopping.set()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        with contextlib.suppress(Exception):
            await flush(self.redis)
        if cls._active is self:
            cls._active = None

    async def _loop(self) -> None:
        failing = False
        while not self._stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.interval_s)
            try:
                await flush(self.redis)
                failing = False
            except Exception as exc:  # Redis down: the counts stay buffered
                if not failing:
                    log.warning("metrics.flush_failed", error=type(exc).__name__)
                failing = True


# ------------------------------------------------------------------------------------------- read back
@dataclass
class Snapshot:
    counters: dict[str, dict[str, float]] = field(default_factory=dict)
    hist: dict[str, dict[str, float]] = field(default_factory=dict)


async def read_snapshot(r: aioredis.Redis) -> Snapshot:
    snap = Snapshot()
    async with r.pipeline(transaction=False) as pipe:
        for c in _COUNTERS:
            pipe.hgetall(TOTALS_PREFIX + c.name)
        for h in _HISTOGRAMS:
            pipe.hgetall(HIST_PREFIX + h.name)
        res = await pipe.execute()
    for c, raw in zip(_COUNTERS, res[: len(_COUNTERS)], strict=True):
        snap.counters[c.name] = {k.decode(): float(v) for k, v in raw.items()}
    for h, raw in zip(_HISTOGRAMS, res[len(_COUNTERS):], strict=True):
        snap.hist[h.name] = {k.decode(): float(v) for k, v in raw.items()}
    return snap


class RedisCollector(Collector):
    """Exposes the last snapshot read from Redis (``/metrics`` refreshes it before each scrape)."""

    def __init__(self) -> None:
        self.snapshot = Snapshot()

    def collect(self) -> Iterator[Metric]:
        for c in _COUNTERS:
            fam = CounterMetricFamily(c.name, c.documentation, labels=list(c.labelnames))
            for key, v in sorted(self.snapshot.counters.get(c.name, {}).items()):
                fam.add_metric(key.split(SEP) if c.labelnames else [], v)
            yield fam
        for h in _HISTOGRAMS:
            fam_h = HistogramMetricFamily(h.name, h.documentation, labels=list(h.labelnames))
            series: dict[str, dict[str, float]] = defaultdict(dict)
            for key, v in self.snapshot.hist.get(h.name, {}).items():
                labels, _, part = key.rpartition(SEP)
                series[labels][part] = v
            for labels, parts in sorted(series.items()):
                cumulative, buckets = 0.0, []
                for i, le in enumerate(h.buckets):
                    cumulative += parts.get(str(i), 0.0)
                    buckets.append((str(le), cumulative))
                buckets.append(("+Inf", parts.get("count", 0.0)))
                fam_h.add_metric(labels.split(SEP), buckets, parts.get("sum", 0.0))
            yield fam_h


COLLECTOR = RedisCollector()
REGISTRY.register(COLLECTOR)


async def refresh(r: aioredis.Redis) -> None:
    """Read the totals from Redis for the next scrape (includes this process's unflushed counts)."""
    with contextlib.suppress(Exception):
        await flush(r)
    COLLECTOR.snapshot = await read_snapshot(r)


# ------------------------------------------------------------------------------------------- history
async def minute_series(r: aioredis.Redis, channel: str, start: float, end: float) -> list[dict[str, int]]:
    """Counts per minute for ``[start, end)``, oldest first."""
    first = int(start // 60) * 60
    minutes = list(range(first, int(end), 60))
    by_minute: dict[int, dict[str, int]] = defaultdict(dict)
    async with r.pipeline(transaction=False) as pipe:
        for h in range(first // 3600 * 3600, int(end), 3600):
            pipe.hgetall(f"{MINUTE_PREFIX}{channel}:{h}")
        res = await pipe.execute()
    for raw in res:
        for k, v in raw.items():
            minute, _, outcome = k.decode().partition(SEP)
            by_minute[int(minute)][outcome] = int(v)
    return [by_minute.get(m, {}) for m in minutes]


async def hour_series(r: aioredis.Redis, channel: str, hours: Sequence[int]) -> list[dict[str, int]]:
    async with r.pipeline(transaction=False) as pipe:
        for h in hours:
            pipe.hgetall(f"{HOUR_PREFIX}{channel}:{h}")
        res = await pipe.execute()
    return [{k.decode(): int(v) for k, v in raw.items()} for raw in res]


def volume(bucket: dict[str, int]) -> int:
    """Messages in a bucket: adapters count ``received``, pollers may only be seen ``dispatched``."""
    return max(bucket.get(o, 0) for o in VOLUME_OUTCOMES)


def counter_value(snap: Snapshot, name: str, *labels: str) -> float:
    return snap.counters.get(name, {}).get(_labels_key(labels), 0.0)


__all__ = [
    "ACCEPT_LATENCY",
    "ACKS",
    "BUILD_INFO",
    "CHANNEL_STATE",
    "DEAD_LETTERS",
    "DEAD_LETTERS_HELD",
    "DISPATCHED",
    "E2E_LATENCY",
    "EVENTS",
    "OUTBOUND",
    "OUTBOUND_FAILED",
    "PIPELINE_GAUGES",
    "REGISTRY",
    "SERVICE_UP",
    "Flusher",
    "count",
    "count_outbound",
    "flush",
    "record_at",
    "refresh",
    "set_pipeline",
]
