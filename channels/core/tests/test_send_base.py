"""The sender base against a local fake provider: status table, Retry-After, one session, close, redaction."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest
from aiohttp import web

from channels.core.outbound import OutboundMessage, PermanentSendError, SendResult, TransientSendError
from channels.core.send import HttpSender, error_for_status, redact_url, retry_after_s
from tests.support.loopback import LoopbackServer


class Recorder:
    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []

    def record(self, channel: str, **row: Any) -> None:
        self.rows.append(dict(row, channel=channel))


class FakeProvider(LoopbackServer):
    """Answers ``/status/<n>`` with that status (and ``Retry-After`` when asked); counts connections."""

    def __init__(self) -> None:
        self.peers: set[tuple[str, int]] = set()
        self.calls = 0

    def routes(self, app: web.Application) -> None:
        app.router.add_route("*", "/status/{code}", self.answer)
        app.router.add_route("*", "/bot{token}/sendMessage", self.answer_ok)

    async def answer(self, request: web.Request) -> web.Response:
        self.calls += 1
        self.peers.add(request.transport.get_extra_info("peername")[:2])  # type: ignore[union-attr]
        headers = {"Retry-After": request.query["ra"]} if "ra" in request.query else {}
        return web.json_response({"id": f"p{self.calls}"}, status=int(request.match_info["code"]), headers=headers)

    async def answer_ok(self, request: web.Request) -> web.Response:
        return web.json_response({"ok": True})


class EchoSender(HttpSender):
    """The smallest channel: POST the text, take the provider's id."""

    def __init__(self, url: str) -> None:
        super().__init__(timeout_s=5)
        self.url = url

    async def __call__(self, msg: OutboundMessage) -> SendResult:
        reply = await self.request(msg.channel, "POST", self.url, json={"text": msg.text})
        self.check(reply)
        return SendResult(provider_message_ids=(str(reply.json()["id"]),), parts=1)


@pytest.fixture
async def provider() -> AsyncIterator[FakeProvider]:
    p = await FakeProvider().start()
    yield p
    await p.stop()


def msg() -> OutboundMessage:
    return OutboundMessage(channel="sms", address="081234567890", text="Laporan diterima")


@pytest.mark.parametrize(("status", "kind", "code"), [
    (200, None, None), (201, None, None), (202, None, None), (204, None, None),
    (429, TransientSendError, "rate_limited"),
    (500, TransientSendError, "provider_error"), (502, TransientSendError, "provider_error"),
    (503, TransientSendError, "provider_error"), (504, TransientSendError, "provider_error"),
    (400, PermanentSendError, "rejected"), (401, PermanentSendError, "rejected"),
    (403, PermanentSendError, "rejected"), (404, PermanentSendError, "undeliverable"),
    (410, PermanentSendError, "undeliverable"), (422, PermanentSendError, "rejected"),
    (304, PermanentSendError, "rejected"),
])
def test_status_table(status, kind, code):
    err = error_for_status(status, retry_after=7.0)
    if kind is None:
        assert err is None
        return
    assert type(err) is kind
    assert err is not None and err.delivery_code == code
    if isinstance(err, TransientSendError):
        assert err.retry_after == 7.0


def test_retry_after_seconds_and_http_date():
    now = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
    assert retry_after_s("120") == 120.0
    assert retry_after_s("-5") == 0.0
    assert retry_after_s(format_datetime(now + timedelta(seconds=90), usegmt=True), now=now) == 90.0
    assert retry_after_s("soon") is None
    assert retry_after_s(None) is None


@pytest.mark.parametrize(("status", "retry_after"), [(429, "30"), (503, "12"), (500, None)])
async def test_transient_over_http_keeps_retry_after(provider, status, retry_after):
    sender = EchoSender(f"{provider.url}/status/{status}" + (f"?ra={retry_after}" if retry_after else ""))
    try:
        with pytest.raises(TransientSendError) as info:
            await sender(msg())
    finally:
        await sender.close()
    assert info.value.retry_after == (float(retry_after) if retry_after else None)


async def test_4xx_is_permanent_and_2xx_returns_provider_id(provider):
    sender = EchoSender(f"{provider.url}/status/403")
    ok = EchoSender(f"{provider.url}/status/200")
    try:
        with pytest.raises(PermanentSendError):
            await sender(msg())
        assert await ok(msg()) == SendResult(provider_message_ids=("p2",), parts=1)
    finally:
        await sender.close()
        await ok.close()


async def test_connection_refused_is_transient_and_logged():
    sender = EchoSender("http://127.0.0.1:9/status/200")  # discard port: nothing listens
    rec = Recorder()
    sender.attach(rec)
    try:
        with pytest.raises(TransientSendError):
            await sender(msg())
    finally:
        await sender.close()
    assert rec.rows[0]["status"] == "unreachable"
    assert rec.rows[0]["error"]


async def test_one_session_and_one_connection_for_many_sends(provider):
    sender = EchoSender(f"{provider.url}/status/200")
    try:
        for _ in range(20):
            await sender(msg())
    finally:
        await sender.close()
    assert provider.calls == 20
    assert sender.sessions_opened == 1
    assert len(provider.peers) == 1  # keep-alive: the pooled connection served every send


async def test_close_closes_the_session(provider):
    sender = EchoSender(f"{provider.url}/status/200")
    await sender(msg())
    session = sender.session()
    assert not session.closed
    await sender.close()
    assert session.closed


async def test_every_call_is_recorded_with_status_and_redacted_url(provider):
    sender = EchoSender(f"{provider.url}/status/200")
    rec = Recorder()
    sender.attach(rec)
    try:
        await sender(msg())
        await sender.request("sms", "GET", f"{provider.url}/status/500",
                             params={"username": "lapor", "password": "hunter2", "to": "6281234567890",
                                     "text": "Jalan rusak"})
    finally:
        await sender.close()
    ok, failed = rec.rows
    assert ok["channel"] == "sms" and ok["status"] == 200 and ok["method"] == "POST" and ok["direction"] == "out"
    assert ok["latency_ms"] >= 0 and ok["error"] is None
    assert failed["status"] == 500 and failed["error"] == "HTTP 500"
    assert "hunter2" not in failed["path"] and "6281234567890" not in failed["path"] and "Jalan" not in failed["path"]
    assert failed["path"].endswith("/status/500?username=<redacted>&password=<redacted>&to=<redacted>&text=<redacted>")


@pytest.mark.parametrize(("url", "expected"), [
    ("https://api.telegram.org/bot123456:AAE-secret_Token/sendMessage",
     "https://api.telegram.org/bot<redacted>/sendMessage"),
    ("https://graph.facebook.com/v19.0/me/messages?access_token=EAAB",
     "https://graph.facebook.com/v19.0/me/messages?access_token=<redacted>"),
    ("http://user:pw@smsc.example:13013/cgi-bin/sendsms?password=x&to=62812",
     "http://smsc.example:13013/cgi-bin/sendsms?password=<redacted>&to=<redacted>"),
    ("smtp://mail.example:587", "smtp://mail.example:587"),
])
def test_redact_url(url, expected):
    assert redact_url(url) == expected
