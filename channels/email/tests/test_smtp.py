"""Email acknowledgements through a real SMTP server (aiosmtpd) and reply threading, end to end."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import orjson
import pytest

from channels.core.reference import reference
from channels.email.send import parse_smtp_url
from channels.email.tests.peers import SmtpSink
from tests.support.core import wait_for_records

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
PATH = "/channels/email/inbound"
AUTH = {"Authorization": "Bearer test-email-token", "Content-Type": "message/rfc822"}
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    sink = SmtpSink().start()
    yield sink
    sink.stop()


async def mails(sink: SmtpSink, n: int, timeout: float = 15.0) -> list[Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and len(sink.received) < n:
        await asyncio.sleep(0.05)
    assert len(sink.received) >= n, f"expected {n} mail(s), got {len(sink.received)}"
    return [(frm, to, message_from_bytes(data, policy=policy.default)) for frm, to, data in sink.received]


async def post(gw: Any, name: str | None = None, raw: bytes | None = None) -> dict[str, Any]:
    data = raw if raw is not None else (FIXTURES / str(name)).read_bytes()
    status, body, _h = await gw.post(PATH, data=data, headers=AUTH)
    assert status in (200, 202), body
    return dict(orjson.loads(body))


async def test_citizen_gets_an_indonesian_ack_that_threads(make_gateway, rsync, r, smtp):
    gw = await make_gateway(smtp_url=smtp.url, imap_user="pengaduan@lapor.go.id")
    await gw.start_worker()
    rid = (await post(gw, "citizen-plain.eml"))["id"]
    ((frm, rcpt, ack),) = await mails(smtp, 1)
    ref = reference(rid)
    assert smtp.auth_ok >= 1
    assert rcpt == ["budi.santoso@gmail.com"] and frm == "noreply@lapor.go.id"
    assert ack["Subject"] == f"Laporan Anda telah diterima [{ref}]"
    assert ack["In-Reply-To"] == "<CAF3xq7Yt9m2Lw@mail.gmail.com>"
    assert ack["References"] == "<CAF3xq7Yt9m2Lw@mail.gmail.com>"
    assert ack["Auto-Submitted"] == "auto-replied"
    assert ack["Reply-To"] == "pengaduan@lapor.go.id"
    assert ack["Message-ID"] == f"<ack.{rid}@lapor.go.id>"
    text = ack.get_body(("plain",)).get_content()
    assert ref in text and "laporan Anda sudah diterima" in text
    assert (await r.get(f"lapor:email:ackmid:ack.{rid}@lapor.go.id")).decode() == rid

    # the citizen answers the acknowledgement: a follow-up linked to the first record
    reply = (FIXTURES / "quoted-reply.eml").read_bytes().replace(
        b"ack.01JDAAAAAAAAAAAAAAAAAAAAAA@lapor.go.id", f"ack.{rid}@lapor.go.id".encode())
    rid2 = (await post(gw, raw=reply))["id"]
    records = await asyncio.to_thread(wait_for_records, rsync, 2, 10.0)
    follow = next(rec for rec in records if rec["id"] == rid2)
    assert "follow_up" in follow["flags"]
    assert follow["conversation"]["in_reply_to"] == rid
    assert follow["body"].startswith("Tambahan: lubangnya") and ">" not in follow["body"]
    first = next(rec for rec in records if rec["id"] == rid)
    assert "follow_up" not in first["flags"]


async def test_forward_is_acknowledged_to_the_citizen_not_the_agency(make_gateway, smtp):
    gw = await make_gateway(smtp_url=smtp.url)
    await gw.start_worker()
    await post(gw, "outlook-forward-en.eml")
    ((_frm, rcpt, ack),) = await mails(smtp, 1)
    assert rcpt == ["andi.wijaya@outlook.com"]
    assert "diteruskan kepada LAPOR! oleh instansi" in ack.get_body(("plain",)).get_content()


async def test_no_ack_to_auto_replies_bounces_or_our_own_mail(make_gateway, r, smtp):
    gw = await make_gateway(smtp_url=smtp.url)
    await gw.start_worker()
    for name in ("auto-reply.eml", "bounce.eml", "own-ack.eml", "list.eml"):
        assert (await post(gw, name))["status"] == "skipped"
    await post(gw, "windows-1252.eml")  # a real complaint afterwards, to know the worker has run
    ((_f, rcpt, _m),) = await mails(smtp, 1)
    await asyncio.sleep(0.5)
    assert rcpt == ["andre.hutapea@telkom.net"] and len(smtp.received) == 1


async def test_deferred_recipient_is_retried_and_refused_one_dead_lettered(make_gateway, r, smtp):
    smtp.refuse["budi.santoso@gmail.com"] = [451]
    smtp.refuse["andre.hutapea@telkom.net"] = [550]
    gw = await make_gateway(smtp_url=smtp.url)
    await gw.start_worker()
    await post(gw, "citizen-plain.eml")
    await post(gw, "windows-1252.eml")
    ((_f, rcpt, _m),) = await mails(smtp, 1)
    assert rcpt == ["budi.santoso@gmail.com"]
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not await r.xlen("lapor:outbound:dead"):
        await asyncio.sleep(0.05)
    ((_id, dead),) = await r.xrange("lapor:outbound:dead")
    assert b"permanent" in dead[b"error"] and b"550" in dead[b"error"]
    assert orjson.loads(dead[b"m"])["address"] == "andre.hutapea@telkom.net"


@pytest.mark.parametrize(("url", "want"), [
    ("smtp://u:p%40ss@mail.example:2525", ("mail.example", 2525, "u", "p@ss", False, None)),
    ("smtps://relay.example", ("relay.example", 465, None, None, True, None)),
    ("smtp://relay.example?starttls=1", ("relay.example", 587, None, None, False, True)),
    ("smtp://relay.example:25?starttls=0", ("relay.example", 25, None, None, False, False)),
])
def test_smtp_url(url, want):
    t = parse_smtp_url(url)
    assert (t.host, t.port, t.username, t.password, t.use_tls, t.start_tls) == want


def test_smtp_url_rejects_other_schemes():
    with pytest.raises(ValueError):
        parse_smtp_url("http://mail.example")


async def test_smtp_call_is_logged_without_credentials_and_returns_the_message_id(make_settings, smtp, r):
    from channels.core.outbound import OutboundMessage
    from channels.email.send import EmailSender

    rows: list[dict[str, Any]] = []

    class Rows:
        def record(self, channel: str, **row: Any) -> None:
            rows.append(dict(row, channel=channel))

    sender = EmailSender(make_settings(smtp_url=smtp.url))
    sender.attach(Rows())
    rid = "01JDBBBBBBBBBBBBBBBBBBBBBB"
    result = await sender(OutboundMessage(channel="email", address="budi.santoso@gmail.com", text="Laporan diterima",
                                          record_id=rid, reference=reference(rid)))
    skipped = await sender(OutboundMessage(channel="email", address="noreply@example.org", text="x",
                                           meta={"flags": ["auto_reply"]}))
    await sender.close()
    assert result.provider_message_ids == (f"ack.{rid}@lapor.go.id",) and skipped.skipped == "auto_reply"
    (row,) = rows  # the skipped one made no call
    assert row["channel"] == "email" and row["method"] == "SMTP" and row["status"] == 250
    target = parse_smtp_url(smtp.url)
    assert row["path"] == f"smtp://{target.host}:{target.port}"
    assert target.password and target.password not in row["path"] and "budi" not in str(row)
