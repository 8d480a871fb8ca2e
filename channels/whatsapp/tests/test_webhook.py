"""WhatsApp webhook: a table of signed real-shaped notifications → answers and stored messages
(through the shared harness: channel-log row and metric deltas checked for every case); the
handshake; signatures; redelivery; what a notification's statuses become."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from channels.whatsapp.inbound import PATH, sign
from channels.whatsapp.notifications import parse_notification
from gateway import metrics
from tests.support.fixtures import TOKENS
from tests.support.harness import Case, run_case, stream_tail
from tests.support.hub_webhook import fixture_cases, hub_signed

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SECRET = TOKENS["whatsapp_app_secret"]
JSON = {"Content-Type": "application/json"}
RINA, BUDI, OUR_NUMBER = "6281298765432", "6285711223344", "6281117081708"
SENT = "2025-12-06T03:00:00Z"
OURS = "wamid.HBgNNjI4MTI5ODc2NTQzMhUCABEYEjVCN0Q5QkQ1RjEyQzQxQjM4RQA="


signed = hub_signed(SECRET)
fx = fixture_cases(PATH, signed)


def media(kind: str, media_id: str, mime: str, text: str = "", /, **more: object) -> dict:
    return {"text": text, "attachments.0.kind": kind, "attachments.0.url": media_id, "attachments.0.mime": mime,
            "attachments.0.ref": None, "attachments": lambda a: len(a) == 1, "meta.media.0.id": media_id, **more}


CASES = [
    fx("text.json", response_contains='"accepted": 1', messages=[{
        "channel": "whatsapp", "provider": "whatsapp-cloud", "kind": "message",
        "native_id": "wamid.HBgNNjI4MTI5ODc2NTQzMhUCABIYFDNBRkM2QzFGRTJFMUE3NEQ4OUQ0AA==",
        "sender": {"kind": "whatsapp", "id": RINA, "handle": None, "display_name": "Rina", "phone": "+" + RINA,
                   "email": None},
        "recipient": OUR_NUMBER, "sent_at": SENT,
        "text": "Lampu jalan di depan pasar mati sudah seminggu, gelap dan rawan.",
        "reply_to": {"channel": "whatsapp", "address": RINA, "thread": None, "private": True},
        "parent_message_id": None, "meta.phone_number_id": "106540352242922", "meta.type": "text",
        "raw": lambda raw: json.loads(raw)["object"] == "whatsapp_business_account"}]),
    fx("image.json", messages=[media("image", "1029384756", "image/jpeg", "Sampah menumpuk di Jl. Kenanga, Bekasi")]),
    fx("audio.json", messages=[media("audio", "1029384757", "audio/mpeg")]),
    fx("voice.json", messages=[media("audio", "1029384758", "audio/ogg; codecs=opus", **{"meta.media.0.voice": True})]),
    fx("voice-type.json", messages=[media("audio", "1029384759", "audio/ogg; codecs=opus",
                                          **{"meta.media.0.voice": True})]),
    fx("video.json", messages=[media("video", "1029384760", "video/mp4", "Banjir setinggi lutut di perumahan")]),
    fx("document.json", messages=[media("document", "1029384761", "application/pdf", "Surat keberatan saya",
                                        **{"attachments.0.filename": "surat-keberatan.pdf"})]),
    fx("sticker.json", messages=[media("image", "1029384762", "image/webp")]),
    fx("location.json", messages=[{
        "native_id": "wamid.LOC0001", "location.lat": -6.2383, "location.lon": 106.9756,
        "location.text": "Pasar Baru Bekasi, Jl. Ir. H. Juanda, Bekasi Tim., Kota Bekasi",
        "meta.shared_location": True}]),
    fx("contacts.json", messages=[{"native_id": "wamid.CONTACTS0001",
                                   "text": "Pak RT Sukamaju: +62 812-3456-7890"}]),
    fx("interactive-button.json", messages=[{"native_id": "wamid.BTN0001", "text": "Jalan rusak",
                                             "meta.answer_id": "topic_jalan",
                                             "parent_message_id": "wamid.OURQUESTION0001"}]),
    fx("interactive-list.json", messages=[{"text": "Dinas PUPR\nPekerjaan umum dan penataan ruang",
                                           "meta.answer_id": "agency_pupr"}]),
    fx("button.json", messages=[{"text": "Masih terjadi", "meta.answer_id": "MASIH_TERJADI",
                                 "parent_message_id": OURS}]),
    fx("reply-context.json", messages=[{"native_id": "wamid.REPLY0001", "parent_message_id": OURS}]),
    fx("forwarded.json", messages=[{"native_id": "wamid.FWD0001", "meta.forwarded": True}]),
    fx("bsuid.json", messages=[{
        "native_id": "wamid.BSUID0001", "sender.id": "ID.13491208655302741918", "sender.phone": None,
        "sender.handle": "@dewi.warga", "sender.display_name": "Dewi", "meta.business_scoped": True,
        "reply_to.address": "ID.13491208655302741918"}]),
    fx("reaction.json", response_contains='"accepted": 0'),
    fx("unsupported.json", response_contains='"accepted": 0'),
    fx("system.json", response_contains='"accepted": 0'),
    fx("group.json", response_contains='"accepted": 0'),
    fx("statuses.json", response_contains='"accepted": 0'),
    fx("errors.json", response_contains='"accepted": 0'),
    fx("template-update.json", response_contains='"accepted": 0'),
    fx("batch-mixed.json", response_contains='"accepted": 4', messages=[
        {"native_id": "wamid.BATCH0001", "sender.id": RINA, "sender.display_name": "Rina"},
        {"native_id": "wamid.BATCH0002", "sender.id": BUDI, "sender.display_name": "Budi",
         "sender.phone": "+" + BUDI},
        {"native_id": "wamid.BATCH0003", "attachments.0.url": "1029384763", "text": "Fotonya",
         "meta.body_sha256": lambda h: len(h) == 64},
        {"native_id": "wamid.BATCH0005", "location.lat": -7.2575, "location.text": None, "text": ""}]),
    # what is not a usable notification
    Case("not JSON", PATH, headers=JSON, body=b"{nope", sign=signed, status=400),
    Case("JSON array", PATH, headers=JSON, body=b"[]", sign=signed, status=400),
    Case("no entry list", PATH, headers=JSON, json={"object": "whatsapp_business_account"}, sign=signed, status=400),
    Case("other object", PATH, headers=JSON, json={"object": "page", "entry": []}, sign=signed,
         response_contains='"accepted": 0'),
    Case("garbage inside the envelope", PATH, headers=JSON, sign=signed, response_contains='"accepted": 1',
         json={"object": "whatsapp_business_account", "entry": [
             "x", {"id": "1", "changes": "x"}, {"id": "1", "changes": [
                 {"field": "messages", "value": "x"},
                 {"field": "messages", "value": {"messages": [
                     "x", {"id": "wamid.NOFROM", "type": "text", "text": {"body": "a"}},
                     {"from": RINA, "id": "wamid.NOBODY", "type": "text", "text": {}},
                     {"from": RINA, "id": "wamid.BADLOC", "type": "location", "location": {"latitude": "x"}},
                     {"from": RINA, "id": "wamid.NOMEDIA", "type": "image", "image": {}},
                     {"from": RINA, "id": "wamid.GOOD", "type": "text", "text": {"body": "tetap diterima"}}]}}]}]},
         messages=[{"native_id": "wamid.GOOD", "text": "tetap diterima", "sender.display_name": None}]),
    # signatures: refused, nothing stored
    Case("no signature", PATH, headers=JSON, fixture="text.json", status=401),
    Case("forged signature", PATH, headers={**JSON, "X-Hub-Signature-256": sign(b"other", SECRET)},
         fixture="text.json", status=403),
    Case("signed with another secret", PATH, headers=JSON, fixture="text.json",
         sign=lambda b: {"X-Hub-Signature-256": sign(b, "not-the-app-secret")}, status=403),
    Case("sha1 signature only", PATH, headers=JSON, fixture="text.json",
         sign=lambda b: {"X-Hub-Signature-256": sign(b, SECRET).replace("sha256=", "sha1=")}, status=403),
    # handshake
    Case("handshake", PATH, method="GET", status=200, response_equals="1158201444",
         query={"hub.mode": "subscribe", "hub.challenge": "1158201444", "hub.verify_token": "test-whatsapp-verify"}),
    Case("handshake wrong token", PATH, method="GET", status=403,
         query={"hub.mode": "subscribe", "hub.challenge": "1", "hub.verify_token": "nope"}),
    Case("handshake Meta channel's token", PATH, method="GET", status=403,
         query={"hub.mode": "subscribe", "hub.challenge": "1", "hub.verify_token": TOKENS["meta_verify_token"]}),
    Case("handshake other mode", PATH, method="GET", status=403,
         query={"hub.mode": "unsubscribe", "hub.challenge": "1", "hub.verify_token": "test-whatsapp-verify"}),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
async def test_cases(gateway, r, case):
    await run_case(gateway, r, case, FIXTURES)


async def test_every_fixture_is_in_the_table():
    used = {c.fixture for c in CASES if c.fixture}
    assert {p.name for p in FIXTURES.glob("*.json")} == used


async def test_same_notification_three_times_is_one_record(gateway, r):
    body = (FIXTURES / "text.json").read_bytes()
    answers = [await gateway.post(PATH, data=body, headers={**JSON, **signed(body)}) for _ in range(3)]
    assert [a[0] for a in answers] == [200, 200, 200]
    assert [json.loads(a[1])["duplicates"] for a in answers] == [0, 1, 1]
    assert len(await stream_tail(r)) == 1


async def test_skips_and_provider_errors_are_counted(gateway, r):
    for name in ("reaction.json", "unsupported.json", "group.json", "errors.json", "statuses.json"):
        body = (FIXTURES / name).read_bytes()
        assert (await gateway.post(PATH, data=body, headers={**JSON, **signed(body)}))[0] == 200
    await metrics.flush(r)
    snap = await metrics.read_snapshot(r)
    counted = {o: metrics.counter_value(snap, metrics.EVENTS.name, "whatsapp", o)
               for o in ("skipped_reaction", "skipped_unsupported", "skipped_group", "skipped_provider_error",
                         "skipped_status_deleted")}
    assert counted == {"skipped_reaction": 1, "skipped_unsupported": 1, "skipped_group": 1,
                       "skipped_provider_error": 1, "skipped_status_deleted": 1}
    await gateway.ctx.channel_log.flush()
    rows = await gateway.ctx.channel_log.recent("whatsapp", limit=5)
    assert any(row.get("skipped_provider_error") == 1 for row in rows)


def test_statuses_become_delivery_reports_never_messages():
    body = (FIXTURES / "statuses.json").read_bytes()
    parsed = parse_notification(json.loads(body), body)
    assert parsed.messages == []
    got = [(s.channel, s.status, s.provider_id, s.at, s.error_code) for s in parsed.statuses]
    assert got == [("whatsapp", "sent", OURS, "2025-12-06T03:00:01Z", None),
                   ("whatsapp", "delivered", OURS, "2025-12-06T03:00:05Z", None),
                   ("whatsapp", "read", OURS, "2025-12-06T03:00:30Z", None),
                   ("whatsapp", "failed", "wamid.OURFAILED0001", "2025-12-06T03:00:40Z", "window_closed")]
    assert parsed.statuses[-1].error_detail == "131047 Re-engagement message"
    assert parsed.skipped == {"status_deleted": 1}


def test_batch_statuses_and_messages_are_split():
    body = (FIXTURES / "batch-mixed.json").read_bytes()
    parsed = parse_notification(json.loads(body), body)
    assert [m.native_id for m in parsed.messages] == ["wamid.BATCH0001", "wamid.BATCH0002", "wamid.BATCH0003",
                                                      "wamid.BATCH0005"]
    assert [(s.provider_id, s.status) for s in parsed.statuses] == [(OURS, "delivered"), ("wamid.OURS0002", "read")]
    assert parsed.skipped == {"reaction": 1}
    # each message keeps its own envelope as raw, with only its own message in it
    raws = [json.loads(m.raw or "") for m in parsed.messages]
    assert [len(r["entry"][0]["changes"][0]["value"]["messages"]) for r in raws] == [1, 1, 1, 1]


def test_failed_status_codes_map_to_the_contract():
    def failed(code: int) -> str | None:
        doc = {"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"field": "messages", "value": {
            "statuses": [{"id": "wamid.X", "status": "failed", "timestamp": "1764990000",
                          "errors": [{"code": code, "title": "t"}]}]}}]}]}
        return parse_notification(doc, b"{}").statuses[0].error_code

    assert {c: failed(c) for c in (131047, 131026, 130429, 131051, 190, 999999)} == {
        131047: "window_closed", 131026: "undeliverable", 130429: "rate_limited", 131051: "rejected",
        190: "channel_disabled", 999999: "provider_error"}


def test_batch_parsing_is_linear_in_the_raw_it_keeps():
    """Each message keeps its own envelope with only its author's contact: 4x the messages ⇒ < 6x raw."""
    def notification(n: int) -> bytes:
        value = {"messaging_product": "whatsapp", "metadata": {"phone_number_id": "1"},
                 "contacts": [{"profile": {"name": f"W{i}"}, "wa_id": f"62812{i:07d}"} for i in range(n)],
                 "messages": [{"from": f"62812{i:07d}", "id": f"wamid.L{i}", "timestamp": "1764990000",
                               "type": "text", "text": {"body": "Jalan rusak"}} for i in range(n)]}
        return json.dumps({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [
            {"field": "messages", "value": value}]}]}).encode()

    def raw_chars(n: int) -> int:
        body = notification(n)
        parsed = parse_notification(json.loads(body), body)
        assert len(parsed.messages) == n
        assert all(len(json.loads(m.raw or "")["entry"][0]["changes"][0]["value"]["contacts"]) == 1
                   for m in parsed.messages)
        return sum(len(m.raw or "") for m in parsed.messages)

    assert raw_chars(200) < 6 * raw_chars(50)
