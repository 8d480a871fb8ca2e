"""Metrics by meaning, build info, process metrics; /metrics behind a token or on its own listener."""

from __future__ import annotations

import aiohttp
from aiohttp import web
from prometheus_client.parser import text_string_to_metric_families

from config.version import __version__
from gateway.app import build_metrics_app


def samples(text: str) -> dict[str, dict[tuple, float]]:
    out: dict[str, dict[tuple, float]] = {}
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            out.setdefault(s.name, {})[tuple(sorted(s.labels.items()))] = s.value
    return out


async def test_one_series_per_meaning_build_info_and_process(gateway):
    await gateway.start_worker()
    status, body, _h = await gateway.get("/metrics")
    assert status == 200
    m = samples(body.decode())
    assert "lapor_pipeline" not in m  # the mixed gauge is gone
    for name in ("lapor_stream_backlog", "lapor_stream_pending", "lapor_redis_up", "lapor_workers_alive",
                 "lapor_spool_pending", "lapor_dead_letters_waiting", "lapor_core_queue_depth",
                 "lapor_gateways_alive", "lapor_outbound_queue"):
        assert name in m and list(m[name]) == [()], name  # no labels: one meaning, one series
    assert m["lapor_redis_up"][()] == 1 and m["lapor_gateways_alive"][()] == 1
    (labels,) = m["lapor_build_info"]
    assert dict(labels)["version"] == __version__
    assert m["process_resident_memory_bytes"][()] > 0 and "process_cpu_seconds_total" in m


async def test_metrics_token(make_gateway):
    gw = await make_gateway(metrics_token="scrape-secret")
    assert (await gw.get("/metrics"))[0] == 401
    assert (await gw.get("/metrics", headers={"Authorization": "Bearer wrong"}))[0] == 401
    assert (await gw.get("/metrics", headers={"Authorization": "Bearer sc\u00e9"}))[0] == 401
    status, body, _h = await gw.get("/metrics", headers={"Authorization": "Bearer scrape-secret"})
    assert status == 200 and b"lapor_redis_up" in body


async def test_metrics_on_a_separate_listener(make_gateway):
    gw = await make_gateway(metrics_port=0)
    assert (await gw.get("/metrics"))[0] == 404  # not on the public port
    runner = web.AppRunner(build_metrics_app(gw.app))
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    host, port = runner.addresses[0][:2]
    try:
        async with aiohttp.ClientSession() as s, s.get(f"http://{host}:{port}/metrics") as resp:
            assert resp.status == 200 and "lapor_build_info" in await resp.text()
    finally:
        await runner.cleanup()


async def test_readyz_details_need_the_metrics_token_when_one_is_set(make_gateway):
    gw = await make_gateway(metrics_token="scrape-secret", sms_token=None)
    status, body, _h = await gw.get("/readyz")
    assert body == b'{"status": "not ready"}' and status == 503  # no worker; no channel names or variables
    status, body, _h = await gw.get("/readyz", headers={"Authorization": "Bearer scrape-secret"})
    assert b"LAPOR_SMS_TOKEN" in body and b"no dispatcher worker alive" in body
