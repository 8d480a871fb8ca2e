"""Email statuses end to end: the core's message goes out by SMTP (250 ⇒ ``sent``) with its own
Message-ID, in the citizen's thread; a DSN bounce naming that Message-ID — posted to the raw-MIME
endpoint or found in the IMAP mailbox — makes it ``failed``, and never becomes a record."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterator
from email import message_from_bytes, policy
from typing import Any

import pytest
import redis

from channels.email.tests.peers import PymapServer, SmtpSink
from channels.email.tests.test_imap import Mailbox
from channels.email.tests.test_smtp import AUTH, FIXTURES, PATH, smtp  # noqa: F401 (fixture)
from channels.sms.tests.conftest import eventually
from dispatcher.outbound_worker import CoreMessageWorker
from tests.support.core import wait_for_records
from tests.twoway import support
from tests.twoway.support import AUTH as OUT_AUTH
from tests.twoway.support import OUT_TOKEN, _async, outbound, status_ids, status_jobs

pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")


@pytest.fixture
def pymap_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PymapServer]:
    server = PymapServer(tmp_path_factory.mktemp("pymap-bounce")).start()
    yield server
    server.stop()


def dsn(original_id: str, action: str = "failed", status: str = "5.1.1") -> bytes:
    return (f"""Return-Path: <>
From: Mail Delivery System <MAILER-DAEMON@mx.example.id>
To: noreply@lapor.go.id
Subject: Undelivered Mail Returned to Sender
Date: Sun, 06 Dec 2026 10:00:00 +0700
Message-ID: <dsn.{abs(hash(original_id))}@mx.example.id>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="BOUND"

--BOUND
Content-Type: text/plain; charset=us-ascii

Your message could not be delivered.

--BOUND
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.id

Final-Recipient: rfc822; budi.santoso@gmail.com
Action: {action}
Status: {status}

--BOUND
Content-Type: text/rfc822-headers

From: LAPOR! <noreply@lapor.go.id>
To: budi.santoso@gmail.com
Subject: Kabar laporan Anda
Message-ID: <{original_id}>

--BOUND--
""").replace("\n", "\r\n").encode()


def core_worker(gw: Any) -> contextlib.AbstractAsyncContextManager[CoreMessageWorker]:
    return support.core_worker(gw, "email-core")


async def test_email_sent_then_bounced_through_the_mime_endpoint_and_imap(
        make_gateway: Callable[..., Any], smtp: SmtpSink, rsync: redis.Redis, pymap_server: PymapServer) -> None:  # noqa: F811
    mailbox = Mailbox(pymap_server)
    gw = await make_gateway(outbound_token=OUT_TOKEN, smtp_url=smtp.url, **mailbox.settings(pymap_server.port))
    await gw.start_worker()
    status, body, _ = await gw.post(PATH, data=(FIXTURES / "citizen-plain.eml").read_bytes(), headers=AUTH)
    assert status == 202
    rid = str((await asyncio.to_thread(wait_for_records, rsync, 1))[-1]["id"])
    async with core_worker(gw):
        for oid in ("em-1", "em-2"):
            assert (await gw.post("/outbound/messages", json=outbound(oid, rid), headers=OUT_AUTH))[0] == 202
            await eventually(lambda oid=oid: _async(status_ids(rsync, f"{oid}-") == [f"{oid}-queued", f"{oid}-sent"]))
    mails = {message_from_bytes(d, policy=policy.default)["Message-ID"]: (to, d) for _f, to, d in smtp.received}
    for oid in ("em-1", "em-2"):
        to, raw = mails[f"<out.{oid}@lapor.go.id>"]
        mail = message_from_bytes(raw, policy=policy.default)
        assert to == ["budi.santoso@gmail.com"] and mail["In-Reply-To"] == "<CAF3xq7Yt9m2Lw@mail.gmail.com>"
        assert "Dinas PU" in mail.get_body(("plain",)).get_content()
    sent = dict(status_jobs(rsync))["em-1-sent"]
    assert sent["provider_message_ids"] == ["out.em-1@lapor.go.id"]
    records_before = rsync.xlen("lapor:inbound")

    # a "delayed" DSN is no failure; then the real bounce, by the MTA pipe
    for raw in (dsn("out.em-1@lapor.go.id", action="delayed", status="4.4.1"), dsn("out.em-1@lapor.go.id")):
        status, body, _ = await gw.post(PATH, data=raw, headers=AUTH)
        assert status == 200 and b"bounce" in body
    await eventually(lambda: _async(status_ids(rsync, "em-1-") == ["em-1-queued", "em-1-sent", "em-1-failed"]))
    failed = dict(status_jobs(rsync))["em-1-failed"]
    assert failed["error"] == {"code": "undeliverable", "detail": "bounce 5.1.1"}

    # the same for em-2, found by the IMAP poller
    await mailbox.append(raw=dsn("out.em-2@lapor.go.id"))
    await eventually(lambda: _async(status_ids(rsync, "em-2-") == ["em-2-queued", "em-2-sent", "em-2-failed"]))
    await asyncio.sleep(0.3)
    assert rsync.xlen("lapor:inbound") == records_before  # bounces never become records
