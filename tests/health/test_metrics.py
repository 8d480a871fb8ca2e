"""/metrics: per-channel counters and latencies from real traffic, summed across processes via Redis."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time

import pytest
from prometheus_client.parser import text_string_to_metric_families

from gateway import metrics
from tests.support.core import wait_for_records

PATH = "/channels/http/complaints"
AUTH = {"Authorization": "Bearer test-http-token"}


def complaint(i: int) -> dict:
    return {"id": f"m-{i}", "text": "Lampu jalan di RT 03 mati sejak seminggu.", "reporter": {"phone": "0811000001"}}


async def scrape(gw) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    status, body, headers = await gw.get("/metrics")
    assert status == 200 and headers["Content-Type"].startswith("text/plain")
    out = {}
    for fam in text_string_to_metric_families(body.decode()):
        for s in fam.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def val(samples, metric, **labels) -> float:
    return samples.get((metric, tuple(sorted(labels.items()))), 0.0)


async def test_traffic_counts_by_outcome_and_latency(gateway, rsync):
    assert (await gateway.post(PATH, json=complaint(1), headers=AUTH))[0] == 202
    assert (await gateway.post(PATH, json=complaint(1), headers=AUTH))[0] == 200  # duplicate
    assert (await gateway.post(PATH, json=complaint(2), headers={"Authorization": "Bearer wrong"}))[0] == 403
    assert (await gateway.post(PATH, json={"id": "x"}, headers=AUTH))[0] == 400
    await gateway.start_worker()
    await asyncio.to_thread(wait_for_records, rsync, 1)
    deadline = time.monotonic() + 20
    while True:
        m = await scrape(gateway)
        if val(m, "lapor_dispatched_total", channel="api") >= 1 or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.2)
    ev = "lapor_channel_events_total"
    assert val(m, ev, channel="api", outcome="received") == 2
    assert val(m, ev, channel="api", outcome="stored") == 1
    assert val(m, ev, channel="api", outcome="duplicate") == 1
    assert val(m, ev, channel="api", outcome="rejected_auth") == 1
    assert val(m, ev, channel="api", outcome="rejected_invalid") == 1
    assert val(m, "lapor_accept_latency_seconds_count", channel="api") == 2
    assert val(m, "lapor_accept_latency_seconds_bucket", channel="api", le="+Inf") == 2
    assert val(m, "lapor_dispatched_total", channel="api") == 1
    assert val(m, "lapor_end_to_end_latency_seconds_count", channel="api") == 1
    assert val(m, "lapor_workers_alive") == 1
    assert val(m, "lapor_core_queue_depth") == 1
    assert val(m, "lapor_redis_up") == 1


async def test_counts_from_several_processes_add_up(gateway, redis_url):
    code = ("import asyncio, redis.asyncio as R; from gateway import metrics\n"
            "async def main():\n"
            f"    r = R.Redis.from_url({redis_url!r})\n"
            "    metrics.count('sms', 'received', 7); metrics.ACCEPT_LATENCY.labels('sms').observe(0.003)\n"
            "    await metrics.flush(r); await r.aclose()\n"
            "asyncio.run(main())\n")
    procs = [subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=60) for _ in range(2)]
    assert all(p.returncode == 0 for p in procs), procs[0].stderr
    metrics.count("sms", "received", 5)  # this process, not yet flushed: the scrape flushes first
    m = await scrape(gateway)
    assert val(m, "lapor_channel_events_total", channel="sms", outcome="received") == 19
    assert val(m, "lapor_accept_latency_seconds_count", channel="sms") == 2
    assert val(m, "lapor_accept_latency_seconds_bucket", channel="sms", le="0.0025") == 0
    assert val(m, "lapor_accept_latency_seconds_bucket", channel="sms", le="0.005") == 2


async def test_counts_survive_a_redis_outage(redis_proc, redis_url, r):
    metrics.count("telegram", "skipped_echo", 3)
    redis_proc.stop()
    try:
        with pytest.raises(Exception):  # noqa: B017 - whichever connection error redis-py raises
            await metrics.flush(r)
        metrics.count("telegram", "skipped_echo", 2)
    finally:
        redis_proc.start()
    await metrics.flush(r)
    snap = await metrics.read_snapshot(r)
    assert metrics.counter_value(snap, "lapor_channel_events", "telegram", "skipped_echo") == 5
    minute = await metrics.minute_series(r, "telegram", time.time() - 120, time.time() + 1)
    assert sum(b.get("skipped_echo", 0) for b in minute) == 5


async def test_service_state_gauge(gateway, r):
    from channels.core.service import Service

    class Bind(Service):
        name = "smpp-test"
        channel = "sms"

    svc = Bind(r)
    svc.set_state("bound")
    await svc.publish()
    m = await scrape(gateway)
    assert val(m, "lapor_service_state", service="smpp-test", channel="sms", state="bound") == 1


async def test_channel_health_gauge(gateway):
    from gateway.admin import ADMIN_KEY

    await gateway.app[ADMIN_KEY].watcher.evaluate()
    m = await scrape(gateway)
    assert val(m, "lapor_channel_health", channel="pipeline", state="failing") == 1  # no worker in this test
    assert val(m, "lapor_channel_health", channel="api", state="ok") == 1
    assert val(m, "lapor_channel_health", channel="api", state="failing") == 0
