"""A request id in every log line of a request, in the answer, in the channel log and on the stored message."""

from __future__ import annotations

import io
import re
import sys

import orjson
import pytest

from gateway.logging import configure_logging
from tests.support.fixtures import TOKENS

API = {"Authorization": f"Bearer {TOKENS['http_token']}"}


@pytest.fixture
def json_log(monkeypatch):
    buf = io.StringIO()
    monkeypatch.setattr(sys, "stderr", buf)
    configure_logging("json", "info")
    yield buf
    monkeypatch.undo()
    configure_logging("console", "info")


def lines(buf: io.StringIO) -> list[dict]:
    return [orjson.loads(x) for x in buf.getvalue().splitlines() if x.startswith("{")]


async def test_every_log_line_of_a_request_carries_its_id(gateway, json_log):
    status, _b, headers = await gateway.post("/admin/login", data={"token": "wrong"})
    assert status == 401
    rid = headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{24}", rid)
    mine = [x for x in lines(json_log) if x.get("event") == "admin.login_failed"]
    assert mine and all(x["request_id"] == rid for x in mine)
    status, _b, headers2 = await gateway.post("/admin/login", data={"token": "wrong"})
    assert headers2["X-Request-ID"] != rid
    # lines outside any request carry none
    json_log.seek(0)
    json_log.truncate(0)
    from gateway.logging import get_logger

    get_logger("t").info("outside")
    assert "request_id" not in lines(json_log)[-1]


async def test_the_stored_message_and_the_channel_log_carry_it(gateway, r):
    status, _body, headers = await gateway.post("/channels/http/complaints", headers=API, json={
        "id": "rid-1", "text": "Lampu jalan mati", "reporter": {"phone": "081234567890"}})
    assert status == 202
    rid = headers["X-Request-ID"]
    ((_id, fields),) = await r.xrange("lapor:inbound")
    assert orjson.loads(fields[b"msg"] if b"msg" in fields else next(
        v for v in fields.values() if v.startswith(b"{")))["meta"]["request_id"] == rid
    await gateway.ctx.channel_log.flush()
    entries = await gateway.ctx.channel_log.recent("api", 5)
    assert entries[0]["request_id"] == rid


async def test_a_trusted_proxy_id_is_reused_and_an_untrusted_one_is_not(make_gateway):
    trusting = await make_gateway(trusted_proxies="127.0.0.1")
    _s, _b, h = await trusting.get("/healthz", headers={"X-Request-ID": "edge-7f3a9c21"})
    assert h["X-Request-ID"] == "edge-7f3a9c21"
    for bad in ("bad id <script>", "x" * 200, "short"):
        _s, _b, h = await trusting.get("/healthz", headers={"X-Request-ID": bad})
        assert re.fullmatch(r"[0-9a-f]{24}", h["X-Request-ID"])  # not reused: a fresh one
    plain = await make_gateway()
    _s, _b, h = await plain.get("/healthz", headers={"X-Request-ID": "edge-7f3a9c21"})
    assert h["X-Request-ID"] != "edge-7f3a9c21"
