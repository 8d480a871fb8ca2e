"""Meta webhook: table of signed real-shaped deliveries → answers and stored messages; the
handshake; signatures; bad bodies."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from channels.meta.inbound import PATH, sign
from tests.support.fixtures import TOKENS
from tests.support.harness import Case, run_case
from tests.support.hub_webhook import fixture_cases, hub_signed

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SECRET = TOKENS["meta_app_secret"]
JSON = {"Content-Type": "application/json"}
PAGE, IG = "101010101010101", "17841400000000000"
PSID, IGSID = "6543210987654321", "9988776655443322"
SENT = "2025-11-22T08:26:40Z"


signed = hub_signed(SECRET)
fx = fixture_cases(PATH, signed)


def _is(value):  # a check that the harness calls on the stored value
    return lambda got: got == value


TWICE = {"id": PAGE, "time": 1, "messaging": [{"sender": {"id": PSID}, "message": {"mid": "m_twice", "text": "a"}}]}

CASES = [
    fx("messenger-text.json", response_contains='"accepted": 1', messages=[{
        "channel": "facebook", "provider": "meta", "kind": "dm", "native_id": "m_AbCdEf1234567890",
        "sender.kind": "facebook", "sender.id": PSID, "recipient": PAGE,
        "text": "Lampu jalan mati di RT 04 RW 02 Kelurahan Sukamaju sudah dua minggu.",
        "sent_at": SENT, "reply_to": {"channel": "facebook", "address": PSID, "thread": None, "private": True},
        "confidential": False, "anonymous": False, "raw": lambda raw: raw.startswith('{"object":"page"')}]),
    fx("messenger-attachments.json", messages=[{
        "native_id": "m_Attach0000000001", "text": "Ini fotonya, sampah menumpuk di pinggir sungai é",
        "attachments.0.kind": "image", "attachments.0.url": lambda u: u.startswith("https://scontent.xx.fbcdn.net/"),
        "attachments.1.kind": "video", "attachments.2.kind": "audio", "attachments.3.kind": "document",
        "attachments.4.kind": "other", "attachments.4.filename": "Berita banjir",
        "attachments.4.url": lambda u: u.startswith("https://l.facebook.com/"),
        "attachments": lambda a: len(a) == 5,
        "location.lat": -6.9875, "location.lon": 107.6189, "location.text": "Lokasi saya",
        "parent_message_id": "m_previous000001", "conversation": None, "meta.attachment_types": ["fallback"]}]),
    fx("messenger-quick-reply.json", messages=[{"native_id": "m_Quick00000000001", "text": "Laporkan pungli",
                                                "meta.quick_reply": "TOPIC_PUNGLI"}]),
    fx("messenger-postback.json", messages=[{"native_id": "m_Postback00000001", "kind": "dm",
                                             "text": "Saya ingin melapor pelayanan puskesmas",
                                             "meta.postback": "LAPOR_PUSKESMAS", "reply_to.address": PSID}]),
    fx("messenger-postback-empty.json", response_contains='"accepted": 0'),
    fx("messenger-echo.json", response_contains='"accepted": 0'),
    fx("messenger-receipts.json", response_contains='"accepted": 0'),
    fx("messenger-edit.json", messages=[{"native_id": "edit:m_AbCdEf1234567890:1", "meta.revision": "edit",
                                         "flags": ["edited"],
                                         "meta.target": "m_AbCdEf1234567890", "sender.id": PSID,
                                         "text": lambda t: "RW 03" in t}]),
    fx("feed-comment-add.json", messages=[{
        "channel": "facebook", "kind": "comment", "native_id": "101010101010101_303030",
        "sender.id": "5555555555", "sender.display_name": "Budi Santoso", "recipient": PAGE,
        "text": "Jalan di Jl. Merdeka berlubang sejak sebulan, mohon segera diperbaiki.", "sent_at": SENT,
        "conversation": {"thread_id": "101010101010101_202020", "in_reply_to": None},
        "reply_to": {"channel": "facebook", "address": "101010101010101_303030",
                     "thread": "101010101010101_202020", "private": False}}]),
    fx("feed-comment-reply.json", messages=[{"native_id": "202020_404040", "sender.display_name": "Siti Aminah",
                                             "parent_message_id": "202020_303030",
                                             "conversation": {"thread_id": "101010101010101_202020",
                                                              "in_reply_to": None}}]),
    fx("feed-post-add.json", messages=[{
        "kind": "post", "native_id": "101010101010101_505050", "sender.id": "6666666666", "anonymous": True,
        "confidential": False, "body": "Pelayanan KTP di Disdukcapil lambat sekali, sudah 3 bulan belum jadi.",
        "text": lambda t: t.endswith("#anonim"), "attachments.0.kind": "image",
        "attachments": lambda a: len(a) == 1,
        "reply_to": {"channel": "facebook", "address": "101010101010101_505050", "thread": None, "private": False}}]),
    fx("feed-comment-edited.json", messages=[{"native_id": lambda n: n.startswith("edit:101010101010101_303030:"),
                                              "meta.revision": "edit", "meta.target": "101010101010101_303030",
                                              "flags": ["edited"],
                                              "kind": "comment", "reply_to": None}]),
    fx("feed-comment-remove.json", messages=[{"native_id": "remove:101010101010101_303030",
                                              "meta.revision": "remove", "text": ""}]),
    fx("feed-comment-hide.json"),
    fx("feed-own-comment.json"),
    fx("feed-reaction.json"),
    fx("feed-comment-rahasia.json", messages=[{
        "native_id": "202020_606060", "confidential": True, "flags": ["public_confidential_request"],
        "meta": lambda m: "confidential_in_public" not in m,
        "reply_to.private": False, "body": "Kepala desa minta uang Rp500.000 untuk surat domisili.",
        "text": lambda t: t.startswith("#rahasia")}]),
    fx("feed-comment-no-from.json", messages=[{"native_id": "202020_707070", "sender.id": "unknown:202020_707070",
                                               "meta.sender_unknown": True, "reply_to.address": "202020_707070"}]),
    fx("ig-dm.json", messages=[{
        "channel": "instagram", "kind": "dm", "native_id": "aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQxNDAw",
        "sender.kind": "instagram", "sender.id": IGSID, "recipient": IG,
        "text": "Mau lapor pungli di kelurahan — diminta bayar Rp50rb", "attachments.0.kind": "image",
        "reply_to": {"channel": "instagram", "address": IGSID, "thread": None, "private": True}}]),
    fx("ig-dm-echo.json"),
    fx("ig-dm-deleted.json", messages=[{"channel": "instagram",
                                        "native_id": "remove:aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQxNDAw",
                                        "meta.revision": "remove"}]),
    fx("ig-comment.json", messages=[{
        "channel": "instagram", "kind": "comment", "native_id": "17890000000000001", "sender.id": IGSID,
        "sender.handle": "warga_bekasi", "text": "@lapor1708 tolong cek jembatan di Bekasi Timur, sudah retak",
        "conversation": {"thread_id": "17900000000000002", "in_reply_to": None},
        "parent_message_id": "17890000000000000",
        "reply_to": {"channel": "instagram", "address": "17890000000000001", "thread": "17900000000000002",
                     "private": False}, "meta.media_product_type": "FEED", "sent_at": SENT}]),
    fx("ig-own-comment.json"),
    fx("ig-mention.json", messages=[{"kind": "mention", "native_id": "17900000000000003:17890000000000004",
                                     "text": "", "reply_to": None, "meta.needs_fetch": True,
                                     "meta.mention.comment_id": "17890000000000004"}]),
    fx("ig-mention-caption.json", messages=[{"kind": "mention", "native_id": "17900000000000005",
                                             "meta.mention.comment_id": None}]),
    fx("batch-mixed.json", response_contains='"accepted": 4', messages=[
        {"native_id": "m_Batch000000000001", "raw": lambda raw: '"m_Batch000000000001"' in raw
         and '"m_Batch000000000002"' not in raw, "meta.body_sha256": lambda h: len(h) == 64},
        {"native_id": "m_Batch000000000002", "sender.id": "6543210987650000"},
        {"native_id": "202020_818181", "kind": "comment"},
        {"native_id": "remove:202020_828282", "meta.revision": "remove"}]),
    Case("the same event twice in one delivery is stored once", PATH, headers=JSON, sign=signed,
         json={"object": "page", "entry": [TWICE, TWICE]},
         response_contains='"duplicates": 1', messages=[{"native_id": "m_twice"}]),
    Case("a sticker alone is not a complaint", PATH, headers=JSON, sign=signed, response_contains='"accepted": 0',
         json={"object": "page", "entry": [{"id": PAGE, "time": 1, "messaging": [{"sender": {"id": PSID}, "message": {
             "mid": "m_sticker", "sticker_id": 369239263222822, "attachments": [{"type": "image", "payload": {
                 "url": "https://scontent.xx.fbcdn.net/v/t39.1997-6/851557_369239266556155_759568595_n.png",
                 "sticker_id": 369239263222822}}]}}]}]}),
    # handshake
    Case("handshake ok", PATH, method="GET", response_equals="1158201444",
         query={"hub.mode": "subscribe", "hub.verify_token": TOKENS["meta_verify_token"],
                "hub.challenge": "1158201444"}),
    Case("handshake wrong token", PATH, method="GET", status=403,
         query={"hub.mode": "subscribe", "hub.verify_token": "nope", "hub.challenge": "1158201444"}),
    Case("handshake wrong mode", PATH, method="GET", status=403,
         query={"hub.mode": "unsubscribe", "hub.verify_token": TOKENS["meta_verify_token"], "hub.challenge": "1"}),
    Case("handshake without challenge", PATH, method="GET", status=403,
         query={"hub.mode": "subscribe", "hub.verify_token": TOKENS["meta_verify_token"]}),
    Case("handshake without parameters", PATH, method="GET", status=403),
    Case("handshake with an absurd challenge", PATH, method="GET", status=403,
         query={"hub.mode": "subscribe", "hub.verify_token": TOKENS["meta_verify_token"], "hub.challenge": "9" * 500}),
    # signatures
    Case("signature missing", PATH, headers=JSON, fixture="messenger-text.json", status=401),
    Case("signature invalid", PATH, headers={**JSON, "X-Hub-Signature-256": "sha256=" + "0" * 64},
         fixture="messenger-text.json", status=403),
    Case("signature with wrong secret", PATH, headers=JSON, fixture="messenger-text.json", status=403,
         sign=lambda b: {"X-Hub-Signature-256": sign(b, "not-the-app-secret")}),
    Case("signature sha1 only", PATH, headers=JSON, fixture="messenger-text.json", status=401,
         sign=lambda b: {"X-Hub-Signature": "sha1=" + "a" * 40}),
    Case("signature without prefix", PATH, headers=JSON, fixture="messenger-text.json", status=403,
         sign=lambda b: {"X-Hub-Signature-256": sign(b, SECRET).removeprefix("sha256=")}),
    Case("signature uppercase hex", PATH, headers=JSON, fixture="messenger-text.json",
         sign=lambda b: {"X-Hub-Signature-256": "sha256=" + sign(b, SECRET)[7:].upper()},
         messages=[{"native_id": "m_AbCdEf1234567890"}]),
    Case("unsigned garbage is 401 before any parsing", PATH, headers=JSON, body=b"[not json", status=401),
    # bad bodies (validly signed: Meta would never send them, a bug or an attacker with the secret might)
    Case("malformed JSON", PATH, headers=JSON, body=b'{"object":"page","entry":[', sign=signed, status=400,
         response_contains="malformed JSON"),
    Case("JSON array", PATH, headers=JSON, json=[{"object": "page", "entry": []}], sign=signed, status=400,
         response_contains="JSON object"),
    Case("JSON number", PATH, headers=JSON, json=42, sign=signed, status=400),
    Case("no entry list", PATH, headers=JSON, json={"object": "page", "entry": {}}, sign=signed, status=400),
    Case("invalid UTF-8", PATH, headers=JSON, body=b'{"object":"page","entry":["\xff"]}', sign=signed, status=400),
    Case("unknown object acknowledged", PATH, headers=JSON, json={"object": "user", "entry": [{"id": "1"}]},
         sign=signed, response_contains='"accepted": 0'),
    Case("broken events skipped, the good one kept", PATH, headers=JSON, sign=signed, json={
        "object": "page", "entry": [
            "not an entry",
            {"id": PAGE, "time": 1, "messaging": "not a list"},
            {"id": PAGE, "time": 1,
             "messaging": [7, {"sender": {"id": PSID}, "message": {"mid": "m_ok", "text": "x"}}]},
            {"id": PAGE, "time": 1, "changes": [{"field": "feed", "value": None},
                                                {"field": "feed", "value": {"item": "comment", "verb": "add"}}]}]},
        messages=[{"native_id": "m_ok", "sent_at": "1970-01-01T00:00:01Z"}]),
    Case("GET is the handshake, PUT not allowed", PATH, method="PUT", status=405),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
async def test_cases(gateway, r, case):
    await run_case(gateway, r, case, FIXTURES)


async def test_body_altered_by_one_byte_is_refused(gateway, r):
    body = (FIXTURES / "messenger-text.json").read_bytes()
    header = sign(body, SECRET)
    for i in (0, len(body) // 2, len(body) - 1):
        altered = body[:i] + bytes([body[i] ^ 0x01]) + body[i + 1:]
        status, _b, _h = await gateway.post(PATH, data=altered, headers={**JSON, "X-Hub-Signature-256": header})
        assert status == 403, i
    status, _b, _h = await gateway.post(PATH, data=body, headers={**JSON, "X-Hub-Signature-256": header})
    assert status == 200
    assert await r.xlen("lapor:inbound") == 1


async def test_re_serialised_body_does_not_verify(gateway, r):
    """Meta escapes non-ASCII and slashes: a parsed-and-re-dumped body hashes differently."""
    body = (FIXTURES / "messenger-attachments.json").read_bytes()
    redumped = json.dumps(json.loads(body), separators=(",", ":"), ensure_ascii=False).encode()
    assert redumped != body
    headers = {**JSON, "X-Hub-Signature-256": sign(body, SECRET)}
    status, _b, _h = await gateway.post(PATH, data=redumped, headers=headers)
    assert status == 403
    assert await r.xlen("lapor:inbound") == 0


async def counted(r, outcome: str) -> float:
    """The cluster-wide count (gateway/metrics.py sums every process's counts in Redis)."""
    from gateway import metrics

    await metrics.flush(r)
    return metrics.counter_value(await metrics.read_snapshot(r), metrics.EVENTS.name, "meta", outcome)


async def test_forged_requests_are_counted_and_not_stored(gateway, r):
    before = await counted(r, "rejected_auth")
    body = (FIXTURES / "feed-comment-add.json").read_bytes()
    for headers, expected in ((JSON, 401), ({**JSON, "X-Hub-Signature-256": sign(body, "forged")}, 403)):
        status, _b, _h = await gateway.post(PATH, data=body, headers=headers)
        assert status == expected
    assert await counted(r, "rejected_auth") == before + 2
    assert await r.exists("lapor:inbound") == 0


async def test_20_mb_body_is_413_and_not_stored(gateway, r):
    """Refused on its Content-Length, before 20 MB are read (raw socket: the client stops sending)."""
    head = b'{"object":"page","entry":[{"id":"1","time":1,"messaging":[{"sender":{"id":"2"},"message":{"text":"'
    size = 20 * 1024 * 1024
    host, port = gateway.url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(f"POST {PATH} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
                 f"X-Hub-Signature-256: sha256={'0' * 64}\r\nContent-Length: {size}\r\n\r\n".encode() + head)
    await writer.drain()
    status_line = await asyncio.wait_for(reader.readline(), 10)
    writer.close()
    assert status_line.split()[1] == b"413", status_line
    assert await r.exists("lapor:inbound") == 0


async def test_20_mb_chunked_body_without_length_is_413(gateway, r):
    async def chunks():
        yield b'{"object":"page","entry":[{"id":"1","time":1,"messaging":[{"sender":{"id":"2"},"message":{"text":"'
        for _ in range(20 * 16):
            yield b"x" * 65536
        yield b'"}}]}]}'

    status, _b, _h = await gateway.post(PATH, data=chunks(), headers={**JSON, "X-Hub-Signature-256": "sha256=00"})
    assert status == 413
    assert await r.exists("lapor:inbound") == 0


async def test_redelivery_is_harmless(gateway, r):
    body = (FIXTURES / "batch-mixed.json").read_bytes()
    answers = [await gateway.post(PATH, data=body, headers={**JSON, **signed(body)}) for _ in range(3)]
    assert [a[0] for a in answers] == [200, 200, 200]
    assert json.loads(answers[0][1]) == {"status": "ok", "accepted": 4, "duplicates": 0}
    assert json.loads(answers[2][1]) == {"status": "ok", "accepted": 0, "duplicates": 4}
    assert await r.xlen("lapor:inbound") == 4


async def test_disabled_without_secrets(make_gateway, r):
    gw = await make_gateway(meta_app_secret=None, meta_verify_token=None)
    body = (FIXTURES / "messenger-text.json").read_bytes()
    status, resp, _h = await gw.post(PATH, data=body, headers={**JSON, **signed(body)})
    assert status == 403 and b"disabled" in resp
    status, _b, _h = await gw.get(PATH, params={"hub.mode": "subscribe", "hub.verify_token": "", "hub.challenge": "1"})
    assert status == 403
    assert await r.exists("lapor:inbound") == 0


async def test_redis_down_delivery_is_spooled_answered_and_flows_later(gateway, r, redis_proc):
    """Meta unsubscribes an app after ~1 h of failures: with Redis down we still take the batch."""
    body = (FIXTURES / "batch-mixed.json").read_bytes()
    redis_proc.stop()
    try:
        status, resp, _h = await gateway.post(PATH, data=body, headers={**JSON, **signed(body)})
    finally:
        redis_proc.start()
    assert status == 200, resp
    assert json.loads(resp)["accepted"] == 4
    for _ in range(200):
        if await r.exists("lapor:inbound") and await r.xlen("lapor:inbound") == 4:
            break
        await asyncio.sleep(0.05)
    stored = [f[b"msg"] for _id, f in await r.xrange("lapor:inbound")]
    assert [json.loads(m)["native_id"] for m in stored] == [
        "m_Batch000000000001", "m_Batch000000000002", "202020_818181", "remove:202020_828282"]


async def test_skipped_events_are_counted_by_reason(gateway, r):
    # delivery/read receipts are delivery statuses of our messages (counted by status), not skips
    reasons = ("status_read", "status_delivered", "skipped_read", "skipped_delivery", "skipped_reaction",
               "skipped_echo", "skipped_invalid")
    before = {k: await counted(r, k) for k in reasons}
    for name in ("messenger-receipts.json", "batch-mixed.json"):
        body = (FIXTURES / name).read_bytes()
        status, _b, _h = await gateway.post(PATH, data=body, headers={**JSON, **signed(body)})
        assert status == 200
    assert {k: await counted(r, k) - before[k] for k in reasons} == {
        "status_read": 2, "status_delivered": 1, "skipped_read": 0, "skipped_delivery": 0,
        "skipped_reaction": 1, "skipped_echo": 1, "skipped_invalid": 1}
    await gateway.ctx.channel_log.flush()
    logged = [json.loads(e) for e in await r.lrange("lapor:chlog:meta", 0, -1)]
    assert [e.get("status_read") for e in logged] == [1, 1] and all(e["status"] == 200 for e in logged)
