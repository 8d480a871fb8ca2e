"""The Cloud API sender against the fake Cloud API: payload shapes, the 24-hour window and the
template, quoting, BSUID recipients, error codes mapped to retry or fail, pace, one session."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from channels.core.outbound import OutboundMessage, PermanentSendError, TransientSendError
from channels.whatsapp import graph, links
from channels.whatsapp.send import WhatsAppSender
from tests.support.fixtures import TOKENS

RINA = "6281298765432"
PHONE_ID = TOKENS["whatsapp_phone_number_id"]
REF = "LPR-ABCDE-FGHJK"
CITIZEN_WAMID = "wamid.HBgNNjI4MTI5ODc2NTQzMhUCABIYFDNBRkM2QzFGRTJFMUE3NEQ4OUQ0AA=="
RID = "01KBR0000000000000000000AA"


@pytest.fixture
def make_sender(make_settings, r, api):
    def make(**overrides: Any) -> WhatsAppSender:
        return WhatsAppSender(make_settings(whatsapp_graph_url=api.url, **overrides), redis=r, max_wait_s=0.2)

    return make


def ack(address: str = RINA, *, sent_at: datetime | None = None, **meta: Any) -> OutboundMessage:
    sent = (sent_at or datetime.now(UTC)).isoformat().replace("+00:00", "Z")
    return OutboundMessage(channel="whatsapp", address=address, text=f"Terima kasih. Nomor referensi: {REF}.",
                           kind="ack", record_id=RID, reference=REF, provider="whatsapp-cloud",
                           meta={"message_ids": [CITIZEN_WAMID], "sent_at": sent, **meta})


def core_message(text: str = "Laporan Anda sudah diteruskan ke Dinas PUPR.\nTerima kasih.", **meta: Any):
    return OutboundMessage(channel="whatsapp", address=RINA, text=text, kind="reply", record_id=RID, reference=REF,
                           meta={"message_ids": [CITIZEN_WAMID], "outbound_id": "out-1", **meta})


async def test_ack_in_the_window_is_text_quoting_the_citizen(make_sender, api, r):
    sender = make_sender()
    result = await sender(ack())
    assert api.rejected == []
    assert api.calls == [{"messaging_product": "whatsapp", "recipient_type": "individual", "to": RINA,
                          "type": "text", "text": {"body": f"Terima kasih. Nomor referensi: {REF}.",
                                                   "preview_url": False},
                          "context": {"message_id": CITIZEN_WAMID}}]
    assert result.provider_message_ids == ("wamid.SENT0001",) and result.parts == 1
    assert await links.record_for(r, "wamid.SENT0001") == RID  # a reply quoting it finds the record
    await sender.close()


async def test_question_is_a_location_request(make_sender, api):
    sender = make_sender()
    msg = ack(ask_location=True)
    msg.text = f"Laporan {REF} diterima. Di mana lokasinya?"
    await sender(msg)
    (body,) = api.calls
    assert body["type"] == "interactive" and body["context"] == {"message_id": CITIZEN_WAMID}
    assert body["interactive"] == {"type": "location_request_message", "body": {"text": msg.text},
                                   "action": {"name": "send_location"}}
    await sender.close()


async def test_core_message_in_the_window_is_plain_text_without_quote(make_sender, api):
    sender = make_sender()
    await sender(core_message())
    (body,) = api.calls
    assert body["type"] == "text" and "context" not in body
    await sender.close()


async def test_window_closed_sends_the_template_with_reference_and_text(make_sender, api):
    sender = make_sender(whatsapp_template="lapor_kabar")
    await sender(core_message(template=True))  # the dispatcher's word (last seen > 24 h)
    await sender(ack(sent_at=datetime.now(UTC) - timedelta(hours=30)))  # an old message's ack
    assert api.rejected == []
    for body in api.calls:
        assert body["type"] == "template" and "context" not in body
        assert body["template"]["name"] == "lapor_kabar" and body["template"]["language"] == {"code": "id"}
        params = body["template"]["components"][0]["parameters"]
        assert params[0] == {"type": "text", "text": REF}
    assert api.calls[0]["template"]["components"][0]["parameters"][1]["text"] == (
        "Laporan Anda sudah diteruskan ke Dinas PUPR. Terima kasih.")  # no line breaks in a parameter
    await sender.close()


async def test_window_closed_without_template_fails_window_closed(make_sender, api):
    sender = make_sender()
    with pytest.raises(PermanentSendError) as exc:
        await sender(core_message(template=True))
    assert exc.value.code == "window_closed" and exc.value.delivery_code == "window_closed"
    assert api.calls == []
    await sender.close()


async def test_131047_is_answered_with_the_template_when_there_is_one(make_sender, api):
    api.closed.add(RINA)  # the window closed earlier than our last-seen knew
    sender = make_sender(whatsapp_template="lapor_kabar")
    result = await sender(core_message())
    assert [b["type"] for b in api.calls] == ["template"] and result.provider_message_ids == ("wamid.SENT0001",)
    await sender.close()


async def test_131047_without_template_is_window_closed(make_sender, api):
    api.closed.add(RINA)
    sender = make_sender()
    with pytest.raises(PermanentSendError) as exc:
        await sender(core_message())
    assert exc.value.code == "window_closed"
    await sender.close()


async def test_business_scoped_user_is_addressed_by_recipient(make_sender, api):
    sender = make_sender()
    await sender(ack("ID.13491208655302741918"))
    assert api.rejected == []
    (body,) = api.calls
    assert body["recipient"] == "ID.13491208655302741918" and "to" not in body
    await sender.close()


@pytest.mark.parametrize(("status", "code", "kind", "reason"), [
    (400, 130429, TransientSendError, "rate_limited"),
    (400, 131056, TransientSendError, "rate_limited"),
    (400, 80007, TransientSendError, "rate_limited"),
    (429, 4, TransientSendError, "rate_limited"),
    (500, 131000, TransientSendError, "provider_error"),
    (400, 131053, TransientSendError, "provider_error"),
    (400, 131026, PermanentSendError, "undeliverable"),
    (400, 131051, PermanentSendError, "rejected"),
    (400, 100, PermanentSendError, "rejected"),
    (401, 190, PermanentSendError, "channel_disabled"),
])
async def test_error_codes_map_to_retry_or_fail(make_sender, api, status, code, kind, reason):
    api.failures.append((status, {"error": {"message": "x", "type": "OAuthException", "code": code}}, {}))
    sender = make_sender()
    with pytest.raises(kind) as exc:
        await sender(ack())
    assert exc.value.delivery_code == reason
    if kind is TransientSendError and reason == "rate_limited":
        assert exc.value.retry_after is not None and exc.value.retry_after > 0
    await sender.close()


async def test_retry_after_header_wins(make_sender, api):
    api.failures.append((400, {"error": {"code": 130429, "message": "Rate limit hit"}}, {"Retry-After": "17"}))
    sender = make_sender()
    with pytest.raises(TransientSendError) as exc:
        await sender(ack())
    assert exc.value.retry_after == 17.0
    await sender.close()


async def test_wrong_token_is_refused_by_the_fake_and_permanent(make_settings, api, r):
    sender = WhatsAppSender(make_settings(whatsapp_graph_url=api.url, whatsapp_token="not-the-token"), redis=r)
    with pytest.raises(PermanentSendError) as exc:
        await sender(ack())
    assert exc.value.code == "not_configured" and api.rejected == [("token", None)]
    await sender.close()


async def test_per_recipient_pace_sends_the_excess_back_to_retry(make_sender, api):
    sender = make_sender(whatsapp_send_per_recipient_per_min=2)
    await sender(ack())
    await sender(ack())
    with pytest.raises(TransientSendError) as exc:
        await sender(ack())
    assert exc.value.rate_limited
    await sender(ack("6285711223344"))  # another citizen is not held up
    assert len(api.calls) == 3
    await sender.close()


async def test_one_session_for_many_sends(make_sender, api):
    sender = make_sender()
    for i in range(5):
        await sender(ack(f"62812000000{i:02d}"))
    assert len(api.calls) == 5 and sender.sessions_opened == 1
    await sender.close()


def test_payload_addresses_and_template_params_are_pure():
    assert graph.address("6281298765432") == {"to": "6281298765432"}
    assert graph.address("ID.1349") == {"recipient": "ID.1349"}
    assert graph.template_param("a\n\nb\t c     d") == "a b c d"
    assert len(graph.template_param("x" * 5000)) == graph.MAX_TEMPLATE_PARAM
