"""The shipped contract, the endpoint wrapper's failure paths, health and metrics endpoints."""

from __future__ import annotations

import json

import pytest
from aiohttp import web

from channels.core.inbound import Endpoint, ParseOutcome
from gateway import keys
from gateway.endpoint import wrap
from normalizer.contract import ContractViolation, schema, validate_record
from tests.support.core import SHARED_SCHEMA


def test_packaged_schema_is_the_shared_contract():
    if not SHARED_SCHEMA.exists():
        pytest.skip("shared/ not next to the checkout")
    assert schema() == json.loads(SHARED_SCHEMA.read_text())


def test_fast_validator_rejects_what_the_contract_rejects():
    with pytest.raises(ContractViolation):
        validate_record({"schema": "lapor.complaint/1"})


async def test_parser_crash_is_quarantined_not_500(gateway, r):
    async def broken(_req):
        raise KeyError("provider changed its payload")

    handler = wrap(Endpoint("api", "/x", ("POST",), broken))
    # call the wrapped handler through a tiny app sharing the gateway's context
    sub = web.Application()
    from gateway.context import CTX_KEY

    sub[CTX_KEY] = gateway.ctx
    sub.router.add_post("/x", handler)
    runner = web.AppRunner(sub)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        async with gateway.session.post(f"http://127.0.0.1:{port}/x", data=b'{"weird": 1}') as resp:
            assert resp.status == 202
            assert (await resp.json())["status"] == "quarantined"
    finally:
        await runner.cleanup()
    ((_eid, fields),) = await r.xrange(keys.QUARANTINE_STREAM)
    assert fields[b"body"] == b'{"weird": 1}' and b"KeyError" in fields[b"reason"]


async def test_handshake_outcome_stores_nothing(gateway, r):
    async def handshake(_req):
        return ParseOutcome(response=web.Response(text="challenge"))

    assert (await handshake(None)).response is not None
    assert await r.xlen(keys.INBOUND_STREAM) == 0


async def test_healthz_readyz_metrics(gateway, r):
    status, body, _h = await gateway.get("/healthz")
    assert status == 200
    status, body, _h = await gateway.get("/readyz")
    assert status == 503 and b"no dispatcher worker alive" in body
    await gateway.start_worker()
    import asyncio

    for _ in range(50):
        status, body, _h = await gateway.get("/readyz")
        if status == 200:
            break
        await asyncio.sleep(0.1)
    assert status == 200, body
    await gateway.post("/channels/http/complaints", json={"id": "m1", "text": "x", "reporter": {"id": "1"}},
                       headers={"Authorization": "Bearer test-http-token"})
    await gateway.post("/channels/http/complaints", json={}, headers={"Authorization": "Bearer wrong"})
    status, body, _headers = await gateway.get("/metrics")
    text = body.decode()
    assert status == 200 and "# TYPE" in text
    assert 'lapor_channel_events_total{channel="api",outcome="stored"}' in text
    assert 'lapor_channel_events_total{channel="api",outcome="rejected_auth"}' in text
    assert "lapor_workers_alive " in text


async def test_channel_log_records_requests_without_secrets_or_bodies(gateway, r):
    await gateway.post("/channels/http/complaints?token=leak-me", json={"id": "cl1", "text": "rahasia warga",
                       "reporter": {"phone": "081299998888"}}, headers={"Authorization": "Bearer test-http-token"})
    await gateway.post("/channels/http/complaints", data=b"{", headers={"Authorization": "Bearer test-http-token",
                                                                         "Content-Type": "application/json"})
    await gateway.ctx.channel_log.flush()
    entries = await gateway.ctx.channel_log.recent("api")
    assert [e["status"] for e in entries] == [400, 202]
    assert entries[1]["stored"] == 1 and entries[0]["error"] == "malformed JSON"
    raw = json.dumps(entries)
    for leak in ("leak-me", "rahasia warga", "081299998888"):
        assert leak not in raw
