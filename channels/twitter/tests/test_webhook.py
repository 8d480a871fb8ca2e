"""Webhook: CRC, signature, and Account Activity payloads → stored messages (table-driven)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from pathlib import Path

import pytest

from channels.twitter.signature import crc_response, sign, signature_ok
from tests.support.fixtures import TOKENS
from tests.support.harness import Case, run_case

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
PATH = "/channels/twitter/webhook"
SECRET = TOKENS["twitter_consumer_secret"]
JSON = {"Content-Type": "application/json"}


def signed(body: bytes) -> dict[str, str]:
    return {"x-twitter-webhooks-signature": sign(body, SECRET)}


def forged(body: bytes) -> dict[str, str]:
    return {"x-twitter-webhooks-signature": sign(body, "not-the-secret")}


def tampered(body: bytes) -> dict[str, str]:
    return {"x-twitter-webhooks-signature": sign(body + b" ", SECRET)}


def hex_signature(body: bytes) -> dict[str, str]:  # right key, wrong encoding (Meta style)
    return {"x-twitter-webhooks-signature": "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()}


DAGO_BODY = ("Lampu lalu lintas di simpang Dago mati sejak kemarin & macet parah #Bandung "
             "https://maps.app.goo.gl/dago123")

CASES = [
    # --- CRC
    Case("crc answers response_token", PATH, method="GET", query={"crc_token": "c21va2UtY3JjLXRva2Vu"}, status=200,
         response_contains=crc_response("c21va2UtY3JjLXRva2Vu", SECRET)["response_token"]),
    Case("crc without token", PATH, method="GET", status=400, response_contains="crc_token"),
    Case("crc token too long", PATH, method="GET", query={"crc_token": "x" * 2000}, status=400),
    # --- signature
    Case("unsigned post", PATH, headers=JSON, fixture="aaa-mention.json", status=401),
    Case("forged signature", PATH, headers=JSON, fixture="aaa-mention.json", sign=forged, status=403),
    Case("signature of another body", PATH, headers=JSON, fixture="aaa-mention.json", sign=tampered, status=403),
    Case("hex instead of base64 signature", PATH, headers=JSON, fixture="aaa-mention.json", sign=hex_signature,
         status=403),
    Case("signature without prefix", PATH, headers=JSON, fixture="aaa-mention.json",
         sign=lambda b: {"x-twitter-webhooks-signature": sign(b, SECRET)[7:]}, status=403),
    # --- events
    Case("mention with photo, video, link, place", PATH, headers=JSON, fixture="aaa-mention.json", sign=signed,
         status=200, response_contains='"accepted": 1',
         messages=[{"channel": "twitter", "provider": "x-webhook", "kind": "mention",
                    "native_id": "1992000000000000101", "sender.kind": "twitter",
                    "sender.id": "3000000000000001", "sender.handle": "siti_bdg",
                    "sender.display_name": "Siti Aminah", "recipient": "@LAPOR1708",
                    "body": DAGO_BODY, "text": lambda t: t.startswith("@LAPOR1708 Lampu") and "&amp;" not in t,
                    "meta.hashtags": ["Bandung"], "sent_at": "2025-11-22T08:00:00Z",
                    "attachments.0.kind": "image", "attachments.0.url": "https://pbs.twimg.com/media/GdagoLamp1.jpg",
                    "attachments.1.kind": "video", "attachments.1.mime": "video/mp4",
                    "attachments.1.url": lambda u: u.endswith("1280x720/high.mp4"),
                    "location.text": "Bandung, Jawa Barat", "location.lat": -6.8851, "location.lon": 107.6131,
                    "conversation.thread_id": "1992000000000000101", "conversation.in_reply_to": None,
                    "reply_to": {"channel": "twitter", "address": "1992000000000000101",
                                 "thread": "1992000000000000101", "private": False},
                    "anonymous": False, "confidential": False}]),
    Case("long thread reply, #rahasia, two leading mentions", PATH, headers=JSON, fixture="aaa-thread-reply.json",
         sign=signed, status=200,
         messages=[{"kind": "reply", "native_id": "1992000000000000102", "confidential": True, "anonymous": False,
                    "body": lambda b: b.startswith("Lanjutan: pungutan liar") and b.endswith("#rahasia #pungli"),
                    "flags": [], "meta.hashtags": ["rahasia", "pungli"],
                    "meta.in_reply_to_user_id": "3000000000000001",
                    "conversation.in_reply_to": None, "parent_message_id": "1992000000000000101",
                    "reply_to": {"channel": "twitter", "address": "3000000000000001", "thread": None,
                                 "private": True}}]),
    Case("batch: own tweet, retweet and quote skipped, #Anonim kept", PATH, headers=JSON,
         fixture="aaa-mixed-batch.json", sign=signed, status=200,
         messages=[{"native_id": "1992000000000000303", "anonymous": True, "sender.handle": "guru_cmh",
                    "body": "#Anonim guru honorer di SDN 3 Cimahi belum digaji 4 bulan",
                    "reply_to.private": True, "reply_to.address": "3000000000000079"}]),
    Case("DM with photo", PATH, headers=JSON, fixture="aaa-dm.json", sign=signed, status=200,
         messages=[{"kind": "dm", "provider": "x-webhook", "native_id": "1992000000000000501",
                    "sender.id": "3000000000000001", "sender.handle": "siti_bdg",
                    "body": "Selamat siang, saya mau melapor jalan rusak di Jl. Soekarno-Hatta km 5 #jalanrusak",
                    "meta.hashtags": ["jalanrusak"], "attachments.0.kind": "image",
                    "attachments.0.url": lambda u: u.endswith("/jalan.jpg"),
                    "sent_at": "2025-11-22T08:10:00Z",
                    "reply_to": {"channel": "twitter", "address": "3000000000000001", "thread": None,
                                 "private": True}}]),
    Case("our own DM skipped", PATH, headers=JSON, fixture="aaa-own-dm.json", sign=signed, status=200, stored=0),
    Case("like skipped", PATH, headers=JSON, fixture="aaa-favorite.json", sign=signed, status=200, stored=0),
    Case("follow skipped", PATH, headers=JSON, fixture="aaa-follow.json", sign=signed, status=200, stored=0),
    Case("typing skipped", PATH, headers=JSON, fixture="aaa-typing.json", sign=signed, status=200, stored=0),
    Case("another account's subscription skipped", PATH, headers=JSON, sign=signed, status=200, stored=0,
         json={"for_user_id": "999", "tweet_create_events": [{"id_str": "1", "text": "@x hi",
                                                              "user": {"id_str": "5"}}]}),
    Case("event without id skipped, the rest stored", PATH, headers=JSON, sign=signed, status=200,
         json={"for_user_id": "2818371708", "tweet_create_events": [
             {"text": "@LAPOR1708 no id", "user": {"id_str": "5"}},
             {"id_str": "1992000000000000999", "text": "@LAPOR1708 sampah menumpuk di pasar",
              "created_at": "Sat Nov 22 08:00:00 +0000 2025", "user": {"id_str": "5", "screen_name": "w"},
              "entities": {"user_mentions": [{"id_str": "2818371708", "screen_name": "LAPOR1708"}]}}]},
         messages=[{"native_id": "1992000000000000999", "body": "sampah menumpuk di pasar"}]),
    Case("malformed JSON, correctly signed", PATH, headers=JSON, body=b'{"for_user_id": ', sign=signed,
         status=400, response_contains="malformed JSON"),
    Case("JSON array, correctly signed", PATH, headers=JSON, body=b"[1, 2]", sign=signed, status=400),
    Case("PUT not allowed", PATH, method="PUT", status=405),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
async def test_cases(gateway, r, case):
    await run_case(gateway, r, case, FIXTURES)


def test_crc_matches_documented_example():
    # X's documented formula (base64 HMAC-SHA256), computed independently
    token, secret = "9b4507b3-9040-4669-9ba9-3b1b5b8f4e2f", "consumer-secret"
    want = "sha256=" + base64.b64encode(hmac.new(secret.encode(), token.encode(), hashlib.sha256).digest()).decode()
    assert crc_response(token, secret) == {"response_token": want}


def test_signature_ok_rejects_empty_and_wrong():
    body = b'{"for_user_id":"1"}'
    assert signature_ok(sign(body, "s"), body, "s")
    assert not signature_ok(None, body, "s")
    assert not signature_ok("", body, "s")
    assert not signature_ok(sign(body, "s"), body, "t")


async def test_forged_is_counted_and_logged(gateway, r):
    body = (FIXTURES / "aaa-mention.json").read_bytes()
    status, _b, _h = await gateway.post(PATH, data=body, headers={**JSON, **forged(body)})
    assert status == 403
    assert await r.xlen("lapor:inbound") == 0
    _s, metrics, _h = await gateway.get("/metrics")
    assert b'channel="twitter",outcome="rejected_auth"' in metrics


async def test_disabled_without_consumer_secret(make_gateway, r):
    gw = await make_gateway(twitter_consumer_secret=None)
    status, body, _h = await gw.get(PATH, params={"crc_token": "abc"})
    assert status == 403 and b"disabled" in body
    raw = (FIXTURES / "aaa-mention.json").read_bytes()
    status, _b, _h = await gw.post(PATH, data=raw, headers={**JSON, **signed(raw)})
    assert status == 403
    assert await r.xlen("lapor:inbound") == 0


async def test_redelivery_is_a_duplicate(gateway, r):
    body = (FIXTURES / "aaa-mention.json").read_bytes()
    for _ in range(3):
        status, _b, _h = await gateway.post(PATH, data=body, headers={**JSON, **signed(body)})
        assert status == 200
    assert await r.xlen("lapor:inbound") == 1
