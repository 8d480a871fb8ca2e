"""Replies through Kannel sendsms and Jasmin's HTTP send API (local fake servers that check the
requests as those APIs document them), and the outbound GSM-7/UCS-2 splitter."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import gsm0338  # noqa: F401
import pytest
from aiohttp import web

from channels.core.outbound import OutboundMessage, PermanentSendError
from channels.core.reference import reference
from channels.sms import encoding
from channels.sms.send import SmsSender
from channels.sms.tests.conftest import eventually
from channels.sms.tests.test_jasmin import FORM, form
from channels.sms.tests.test_kannel import get_url
from tests.support.core import wait_for_records
from tests.support.loopback import LoopbackServer


class FakeSmsApi(LoopbackServer):
    """Kannel ``/cgi-bin/sendsms`` and Jasmin ``/send`` on one loopback server."""

    def __init__(self) -> None:
        self.kannel: list[dict[str, str]] = []
        self.jasmin: list[dict[str, str]] = []
        self.kannel_answers: list[tuple[int, str]] = []
        self.url = ""

    async def sendsms(self, request: web.Request) -> web.Response:
        q = dict(request.query)
        if (q.get("username"), q.get("password")) != ("lapor", "kpass"):
            return web.Response(status=403, text="Authorization failed for sendsms")
        for name in ("from", "to", "text"):
            if not q.get(name):
                return web.Response(status=400, text=f"Missing {name}")
        if q.get("coding") not in ("0", "2") or q.get("charset") != "UTF-8":
            return web.Response(status=400, text="bad coding/charset")
        if self.kannel_answers:
            status, text = self.kannel_answers.pop(0)
            if status >= 300:
                return web.Response(status=status, text=text)
        self.kannel.append(q)
        return web.Response(status=202, text="0: Accepted for delivery")

    async def send(self, request: web.Request) -> web.Response:
        q = dict(request.query)
        if (q.get("username"), q.get("password")) != ("jasmin", "jpass"):
            return web.Response(status=403, text='Error "Authentication failure for username:jasmin"')
        if not q.get("to") or not q["to"].isdigit():
            return web.Response(status=400, text='Error "Argument _ to is invalid"')
        if q.get("coding") == "8":
            if "hex-content" not in q or "content" in q:
                return web.Response(status=400, text='Error "coding 8 needs hex-content"')
            bytes.fromhex(q["hex-content"]).decode("utf-16-be")
        elif "content" not in q:
            return web.Response(status=400, text='Error "Mandatory argument [content] is not found."')
        q["_id"] = str(uuid.uuid4())  # Jasmin's message id: its delivery receipts name it
        self.jasmin.append(q)
        return web.Response(status=200, text=f'Success "{q["_id"]}"')

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/cgi-bin/sendsms", self.sendsms)
        app.router.add_get("/send", self.send)


@pytest.fixture
async def api() -> AsyncIterator[FakeSmsApi]:
    fake = await FakeSmsApi().start()
    yield fake
    await fake.stop()


def routes(api: FakeSmsApi) -> dict[str, Any]:
    return dict(kannel_sendsms_url=api.url + "/cgi-bin/sendsms", kannel_username="lapor", kannel_password="kpass",
                jasmin_send_url=api.url + "/send", jasmin_username="jasmin", jasmin_password="jpass")


async def test_kannel_mo_is_acknowledged_through_sendsms_on_the_same_smsc(make_gateway, api, rsync):
    gw = await make_gateway(**routes(api))
    await gw.start_worker()
    api.kannel_answers = [(503, "Service unavailable")]  # first attempt fails: retried with backoff
    status, _b, _h = await gw.get(get_url(kid="ack-1", data=b"Lampu+jalan+mati"))
    assert status == 202
    (rec,) = await asyncio.to_thread(wait_for_records, rsync, 1, 20.0)

    async def sent() -> list[dict[str, str]]:
        return api.kannel

    (q,) = await eventually(sent)
    assert q["to"] == "6281234567890" and q["from"] == "1708" and q["smsc"] == "tsel" and q["coding"] == "0"
    assert reference(rec["id"]) in q["text"]


async def test_jasmin_mo_is_acknowledged_through_jasmin_send(make_gateway, api, rsync):
    gw = await make_gateway(**routes(api))
    await gw.start_worker()
    status, body, _h = await gw.post("/channels/sms/jasmin?token=test-sms-token",
                                     data=form("ack-j", b"Sekolah rusak"), headers=FORM)
    assert (status, body) == (200, b"ACK/Jasmin")
    (rec,) = await asyncio.to_thread(wait_for_records, rsync, 1, 20.0)

    async def sent() -> list[dict[str, str]]:
        return api.jasmin

    (q,) = await eventually(sent)
    assert q["to"] == "6281234567890" and q["from"] == "1708" and q["coding"] == "0"
    assert reference(rec["id"]) in q["content"]


async def test_flood_from_one_number_gets_limited_replies(make_gateway, api, rsync):
    gw = await make_gateway(**routes(api), ack_rate_per_minute=2)
    await gw.start_worker()
    for i in range(6):
        status, _b, _h = await gw.get(get_url(kid=f"flood-{i}", data=f"laporan+{i}".encode()))
        assert status == 202
    await asyncio.to_thread(wait_for_records, rsync, 6, 20.0)
    await asyncio.sleep(1.5)
    assert len(api.kannel) == 2


async def test_non_gsm_text_goes_to_jasmin_as_ucs2_hex(make_settings, api):
    sender = SmsSender(make_settings(**routes(api)))
    try:
        await sender(OutboundMessage(channel="sms", address="+6281234567890", text="Terima kasih 🙏",
                                     provider="jasmin", kind="reply"))
        await sender(OutboundMessage(channel="sms", address="+6281234567890", text="Dengan ê", provider="kannel"))
    finally:
        await sender.close()
    assert api.jasmin[0]["coding"] == "8"
    assert bytes.fromhex(api.jasmin[0]["hex-content"]).decode("utf-16-be") == "Terima kasih 🙏"
    assert api.kannel[0]["coding"] == "2" and api.kannel[0]["text"] == "Dengan ê"


async def test_refused_credentials_are_permanent(make_settings, api):
    sender = SmsSender(make_settings(**{**routes(api), "kannel_password": "wrong"}))
    try:
        with pytest.raises(PermanentSendError):
            await sender(OutboundMessage(channel="sms", address="+6281234567890", text="x", provider="kannel"))
    finally:
        await sender.close()


async def test_no_route_is_permanent(settings):
    sender = SmsSender(settings)
    with pytest.raises(PermanentSendError):
        await sender(OutboundMessage(channel="sms", address="+6281234567890", text="x", provider="kannel"))


# ---------------------------------------------------------------------------------- splitter
@pytest.mark.parametrize(("text", "dc", "n"), [
    ("a" * 160, encoding.DC_GSM, 1),
    ("a" * 161, encoding.DC_GSM, 2),
    ("€" * 80, encoding.DC_GSM, 1),  # 160 septets
    ("€" * 81, encoding.DC_GSM, 2),
    ("é" * 70 + "ê", encoding.DC_UCS2, 2),
    ("ê" * 70, encoding.DC_UCS2, 1),
    ("🙂" * 35, encoding.DC_UCS2, 1),
    ("a" * 153 * 3, encoding.DC_GSM, 3),
])
def test_split_sizes(text, dc, n):
    enc = encoding.split(text, ref=5)
    assert enc.data_coding == dc and len(enc.parts) == n
    if n == 1:
        assert enc.esm_class == 0 and len(enc.parts[0]) <= 140 if dc == encoding.DC_UCS2 else True
        return
    assert enc.esm_class == 0x40
    codec = "gsm03.38" if dc == encoding.DC_GSM else "utf-16-be"
    for i, p in enumerate(enc.parts, 1):
        assert p[:6] == bytes([5, 0, 3, 5, n, i])
        assert len(p) - 6 <= (153 if dc == encoding.DC_GSM else 134)
        p[6:].decode(codec)  # every part decodes on its own: no escape or surrogate pair cut
    assert "".join(p[6:].decode(codec) for p in enc.parts) == text


def test_split_never_cuts_an_escape_or_a_surrogate_pair():
    gsm = "a" * 152 + "€" * 5
    enc = encoding.split(gsm, ref=1)
    assert enc.parts[0][6:].decode("gsm03.38") == "a" * 152
    ucs = "x" * 66 + "🙂" * 3
    enc = encoding.split(ucs, ref=1)
    assert enc.parts[0][6:].decode("utf-16-be") == "x" * 66


async def test_receiver_only_bind_replies_through_kannel(make_settings, api):
    sender = SmsSender(make_settings(**routes(api), smpp_host="127.0.0.1", smpp_bind_mode="receiver"))
    try:
        await sender(OutboundMessage(channel="sms", address="+6281234567890", text="Terima kasih", provider="smpp"))
    finally:
        await sender.close()
    assert api.kannel[0]["to"] == "6281234567890" and "smsc" not in api.kannel[0]


async def test_sendsms_calls_reach_the_channel_log_redacted(make_gateway, api, rsync):
    gw = await make_gateway(**routes(api))
    await gw.start_worker()
    api.kannel_answers = [(503, "Service unavailable")]
    status, _b, _h = await gw.get(get_url(kid="log-1", data=b"Jembatan+putus"))
    assert status == 202

    async def outbound_rows() -> list[dict[str, Any]]:
        rows = [e for e in await gw.ctx.channel_log.recent("sms") if e.get("direction") == "out"]
        return rows if len(rows) == 2 else []

    ok, failed = await eventually(outbound_rows)  # newest first: the retry, then the 503
    assert (failed["status"], failed["error"], ok["status"]) == (503, "HTTP 503", 202)
    assert ok["method"] == "GET" and ok["path"].startswith(api.url + "/cgi-bin/sendsms?")
    assert "password=<redacted>" in ok["path"] and "to=<redacted>" in ok["path"]
    for row in (ok, failed):
        assert "kpass" not in row["path"] and "6281234567890" not in row["path"] and "Jembatan" not in row["path"]
