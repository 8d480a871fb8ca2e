"""Telegram webhook: table of real-shaped Updates → answers and stored messages."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import orjson
import pytest

from tests.support.core import wait_for_records
from tests.support.harness import Case, run_case

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
PATH = "/channels/telegram/webhook"
SECRET = {"X-Telegram-Bot-Api-Secret-Token": "test-telegram-secret", "Content-Type": "application/json"}
SMOKE = Path("/work/shared/contract/smoke/cases/smoke-08-telegram.json")
USER = {"sender.kind": "telegram", "sender.id": "4000000002", "sender.handle": "siti_k",
        "sender.display_name": "Siti Kurnia", "reply_to.channel": "telegram", "reply_to.address": "4000000002"}


def fx(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


def case(name: str, fixture: str, messages: list[dict] | None = None, status: int = 200, **kw) -> Case:
    return Case(name, PATH, headers=SECRET, fixture=fixture, status=status, messages=messages or [], **kw)


CASES = [
    case("text", "text.json", [{**USER, "channel": "telegram", "provider": "telegram", "kind": "message",
                                "native_id": "4000000002:101", "reply_to.thread": "101", "reply_to.private": True,
                                "text": "Jalan di depan SDN 3 Sukamaju berlubang besar sejak sebulan.",
                                "sent_at": "2025-11-22T08:26:40Z", "meta.update_id": 871234501,
                                "attachments": [], "flags": []}]),
    case("photo with caption: largest size by file_id", "photo-caption.json", [
        {**USER, "native_id": "4000000002:102", "text": "Banjir di depan SDN 3", "attachments.0.kind": "image",
         "attachments.0.url": "AgACAgUAAxkBAAIBm", "attachments.0.size": 98000, "attachments.0.mime": "image/jpeg",
         "meta.files.0.file_unique_id": "AQADm1",
         "attachments": lambda a: len(a) == 1}]),
    case("document", "document.json", [{"attachments.0.kind": "document", "attachments.0.filename": "tagihan.pdf",
                                        "attachments.0.mime": "application/pdf",
                                        "attachments.0.url": "BQACAgUAAxkBAAIBd", "text": "Surat tagihan"}]),
    case("video", "video.json", [{"attachments.0.kind": "video", "attachments.0.mime": "video/mp4",
                                  "attachments.0.size": 1048576, "text": ""}]),
    case("voice", "voice.json", [{"attachments.0.kind": "audio", "attachments.0.mime": "audio/ogg",
                                  "attachments.0.url": "AwACAgUAAxkBAAIBo"}]),
    case("location", "location.json", [{"location.lat": -6.914744, "location.lon": 107.60981, "text": "",
                                        "attachments": []}]),
    case("venue", "venue.json", [{"location.lat": -6.2, "location.lon": 106.816666,
                                  "location.text": "Kantor Kecamatan Menteng, Jl. HOS Cokroaminoto No. 1"}]),
    case("own contact: phone becomes the sender's number in E.164", "contact-own.json",
         [{"sender.phone": "+6281234567890", "meta.contact.own": True, "text": ""}]),
    case("someone else's contact stays in the text, not the sender", "contact-other.json",
         [{"sender.phone": None, "meta.contact.own": False, "text": "Kontak: Pak RT +6285711112222"}]),
    case("edited message: own native id, marked as an edit", "edited.json",
         [{"native_id": "4000000002:101:edit:1763800300", "flags": ["edited"], "meta": lambda m: "edit" not in m,
           "sent_at": "2025-11-22T08:31:40Z",
           "text": "Jalan di depan SDN 3 Sukamaju berlubang besar sejak dua bulan."}]),
    case("command is stored for the conversation, marked", "command-start.json",
         [{"meta.command": "start", "text": "/start", "body": ""}]),
    case("forwarded message flagged", "forwarded.json", [{"flags": ["forwarded"], "text": "Pungli di loket samsat"}]),
    case("group chat ignored by default", "group-text.json", stored=0, response_contains='"accepted": 0'),
    case("channel post ignored", "channel-post.json", stored=0),
    case("callback query ignored", "callback-query.json", stored=0),
    case("sticker is no complaint", "sticker.json", stored=0),
    case("message from a bot ignored", "from-bot.json", stored=0),
    Case("wrong secret", PATH, headers={**SECRET, "X-Telegram-Bot-Api-Secret-Token": "nope"}, fixture="text.json",
         status=403),
    Case("secret with different case", PATH, headers={**SECRET, "X-Telegram-Bot-Api-Secret-Token":
                                                      "TEST-telegram-secret"}, fixture="text.json", status=403),
    Case("missing secret", PATH, headers={"Content-Type": "application/json"}, fixture="text.json", status=401),
    Case("malformed JSON", PATH, headers=SECRET, body=b'{"update_id": 1, "message": ', status=400,
         response_contains="malformed JSON"),
    Case("JSON array", PATH, headers=SECRET, json=[fx("text.json")], status=400, response_contains="JSON object"),
    Case("object without update_id", PATH, headers=SECRET, json={"message": fx("text.json")["message"]}, status=400),
    Case("wrong content type", PATH, headers={**SECRET, "Content-Type": "text/plain"}, body=b"hi", status=415),
    Case("GET not allowed", PATH, method="GET", headers=SECRET, status=405),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
async def test_cases(gateway, r, case):
    await run_case(gateway, r, case, FIXTURES)


async def test_group_chat_accepted_when_configured(make_gateway, r):
    gw = await make_gateway(telegram_allow_groups=True)
    msgs = await run_case(gw, r, case("group", "group-text.json", [
        {"native_id": "-1001234567890:55", "reply_to.address": "-1001234567890", "reply_to.private": False,
         "meta.chat_type": "supergroup", "sender.id": "4000000002"}]), FIXTURES)
    assert msgs[0].text == "Lampu jalan mati di RW 05"


async def test_disabled_without_secret(make_gateway, r):
    gw = await make_gateway(telegram_secret=None, telegram_polling="off")
    status, body, _h = await gw.post(PATH, data=(FIXTURES / "text.json").read_bytes(), headers=SECRET)
    assert status == 403 and b"disabled" in body
    assert await r.xlen("lapor:inbound") == 0


async def test_duplicate_update_id_is_stored_once(gateway, r):
    body = (FIXTURES / "text.json").read_bytes()
    answers = await asyncio.gather(*(gateway.post(PATH, data=body, headers=SECRET) for _ in range(4)))
    assert [a[0] for a in answers] == [200] * 4
    docs = [orjson.loads(a[1]) for a in answers]
    assert sum(d["accepted"] for d in docs) == 1 and sum(d["duplicates"] for d in docs) == 3
    assert await r.xlen("lapor:inbound") == 1


async def test_malformed_update_from_telegram_is_quarantined_not_retried(gateway, r):
    """An authenticated update PTB cannot parse is kept (202), never a 5xx Telegram would retry."""
    bad = {"update_id": 871239999, "message": {"message_id": "x", "chat": "nope"}}
    status, _b, _h = await gateway.post(PATH, json=bad, headers=SECRET)
    assert status in (200, 202)
    assert await r.xlen("lapor:quarantine") + await r.xlen("lapor:inbound") == 1


async def test_smoke_case_reaches_core(gateway, rsync):
    """The contract smoke case: reporter identity is the Telegram user id; the native ids are carried."""
    doc = json.loads(SMOKE.read_text())["requests"][0]["json"] if SMOKE.exists() else {
        "update_id": 900000001, "message": {"message_id": 11, "date": 1763800000,
                                            "from": {"id": 4000000001, "is_bot": False, "first_name": "Sari"},
                                            "chat": {"id": 4000000001, "type": "private", "first_name": "Sari"},
                                            "text": "Antrean pembuatan KTP di kecamatan sangat panjang."}}
    await gateway.start_worker(senders={})
    status, _b, _h = await gateway.post(PATH, json=doc, headers=SECRET)
    assert status == 200
    [rec] = await asyncio.to_thread(wait_for_records, rsync, 1, 10.0)
    assert rec["channel"] == "telegram" and rec["reporter"]["identity"] == "4000000001"
    assert rec["reporter"]["identity_kind"] == "telegram"
    assert rec["idempotency_key"] == "telegram:4000000001:11"
    assert rec["source"]["message_ids"] == ["4000000001:11"] and rec["source"]["provider"] == "telegram"
    assert rec["title"] and rec["reply_to"] == {"channel": "telegram", "address": "4000000001", "thread": "11",
                                                "private": True}
    assert rec["conversation"]["thread_id"] == rec["id"] and rec["flags"] == []
