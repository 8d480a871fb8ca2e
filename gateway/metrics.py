"""Prometheus metrics of the gateway (per channel counters, latency histograms, gauges)."""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

EVENTS = Counter(
    "lapor_channel_events_total",
    "Inbound events per channel and outcome (received, stored, duplicate, rejected_auth, "
    "rejected_invalid, skipped_<reason>, error, spooled, quarantined)",
    ["channel", "outcome"], registry=REGISTRY,
)
ACCEPT_LATENCY = Histogram(
    "lapor_accept_latency_seconds", "Provider request to durable accept, per channel", ["channel"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5), registry=REGISTRY,
)
E2E_LATENCY = Histogram(
    "lapor_end_to_end_latency_seconds", "Accept to core queue, per channel", ["channel"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300), registry=REGISTRY,
)
DISPATCHED = Counter("lapor_dispatched_total", "Records enqueued into the core queue", ["channel"],
                     registry=REGISTRY)
DEAD_LETTERS = Counter("lapor_dead_letters_total", "Stream entries moved to lapor:dead", registry=REGISTRY)
GAUGES = Gauge("lapor_pipeline", "Pipeline gauges (stream backlog, pending, dead letters, core queue, "
               "spool, outbound)", ["name"], registry=REGISTRY)
ACKS = Counter("lapor_acks_total", "Outbound acknowledgements per channel and outcome",
               ["channel", "outcome"], registry=REGISTRY)


_children: dict[tuple[str, str], Any] = {}


def count(channel: str, outcome: str, n: int = 1) -> None:
    if n:
        child = _children.get((channel, outcome))
        if child is None:
            child = _children[(channel, outcome)] = EVENTS.labels(channel, outcome)
        child.inc(n)
