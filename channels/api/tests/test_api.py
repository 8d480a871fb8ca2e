"""Generic JSON channel: table of requests → answers and stored messages, then to the core."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import orjson
import pytest

from tests.support.core import wait_for_records
from tests.support.harness import Case, run_case

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
PATH = "/channels/http/complaints"
AUTH = {"Authorization": "Bearer test-http-token"}


def doc(**kw):
    base = {"id": "agency-1", "text": "Trotoar di depan pasar rusak dan berlubang.",
            "reporter": {"phone": "081100000001"}}
    base.update(kw)
    return base


CASES = [
    Case("minimal complaint", PATH, headers=AUTH, json=doc(), status=202, response_contains='"accepted"',
         messages=[{"channel": "api", "provider": "http-api", "kind": "submission", "native_id": "agency-1",
                    "sender.kind": "msisdn", "sender.phone": "081100000001",
                    "text": "Trotoar di depan pasar rusak dan berlubang."}]),
    Case("full agency payload", PATH, headers={**AUTH, "Content-Type": "application/json"},
         fixture="agency-full.json", status=202,
         messages=[{"native_id": "simpel-2026-000481", "confidential": True, "anonymous": False,
                    "title": "Jalan berlubang di Sukamaju", "location.lat": -6.9875,
                    "attachments.0.kind": "image", "attachments.0.filename": "foto1.jpg",
                    "sender.display_name": "Dedi Supriadi", "sent_at": "2026-11-22T08:00:00+07:00"}]),
    Case("email-only reporter", PATH, headers=AUTH, json=doc(id="a-2", reporter={"email": "Warga@Example.ID"}),
         status=202, messages=[{"sender.kind": "email", "sender.id": "warga@example.id"}]),
    Case("id-only reporter", PATH, headers=AUTH, json=doc(id="a-3", reporter={"id": "nik-hash-1"}), status=202,
         messages=[{"sender.kind": "api", "sender.id": "nik-hash-1"}]),
    Case("wrong token", PATH, headers={"Authorization": "Bearer nope"}, json=doc(), status=403),
    Case("no token", PATH, json=doc(), status=401),
    Case("basic instead of bearer", PATH, headers={"Authorization": "Basic dGVzdDp0ZXN0"}, json=doc(), status=401),
    Case("malformed JSON", PATH, headers={**AUTH, "Content-Type": "application/json"}, body=b'{"id": "x", ',
         status=400, response_contains="malformed JSON"),
    Case("JSON array", PATH, headers=AUTH, json=[doc()], status=400, response_contains="JSON object"),
    Case("JSON number", PATH, headers=AUTH, json=42, status=400),
    Case("missing text", PATH, headers=AUTH, json={"id": "a-4", "reporter": {"phone": "0811"}}, status=400,
         response_contains='"text"'),
    Case("blank text", PATH, headers=AUTH, json=doc(id="a-5", text="   "), status=400),
    Case("missing id", PATH, headers=AUTH, json={"text": "x", "reporter": {"phone": "0811"}}, status=400,
         response_contains='"id"'),
    Case("reporter without identity", PATH, headers=AUTH, json=doc(id="a-6", reporter={"name": "Budi"}),
         status=400, response_contains="at least one of phone, email, id"),
    Case("naive sent_at", PATH, headers=AUTH, json=doc(id="a-7", sent_at="2026-11-22T08:00:00"), status=400,
         response_contains="sent_at"),
    Case("latitude out of range", PATH, headers=AUTH, json=doc(id="a-8", location={"lat": 123, "lon": 1}),
         status=400),
    Case("wrong content type", PATH, headers={**AUTH, "Content-Type": "text/plain"}, body=b"hello", status=415),
    Case("invalid UTF-8", PATH, headers={**AUTH, "Content-Type": "application/json"}, body=b'{"id":"\xff"}',
         status=400),
    Case("GET not allowed", PATH, method="GET", headers=AUTH, status=405),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
async def test_cases(gateway, r, case):
    await run_case(gateway, r, case, FIXTURES)


async def test_oversized_body_is_413_and_not_stored(gateway, r):
    big = orjson.dumps(doc(text="x" * (gateway.settings.max_body_bytes + 10)))
    status, _b, _h = await gateway.post(PATH, data=big, headers={**AUTH, "Content-Type": "application/json"})
    assert status == 413
    assert await r.xlen("lapor:inbound") == 0


async def test_disabled_channel_refuses(make_gateway, r):
    gw = await make_gateway(http_token=None)
    status, body, _h = await gw.post(PATH, json=doc(), headers=AUTH)
    assert status == 403 and b"disabled" in body
    assert await r.xlen("lapor:inbound") == 0


async def test_reaches_core_queue_as_valid_record_within_a_second(gateway, rsync):
    await gateway.start_worker()
    t0 = time.monotonic()
    status, body, _h = await gateway.post(PATH, json=doc(id="e2e-1"), headers=AUTH)
    assert status == 202
    rid = orjson.loads(body)["id"]
    for _ in range(100):
        if rsync.llen("rq:queue:lapor-core"):
            break
        await asyncio.sleep(0.01)
    elapsed = time.monotonic() - t0
    records = await asyncio.to_thread(wait_for_records, rsync, 1, 1.0)
    assert elapsed < 1.0, f"took {elapsed:.2f}s"
    assert [rec["id"] for rec in records] == [rid]
    rec = records[0]
    assert rec["channel"] == "api" and rec["idempotency_key"] == "api:e2e-1"
    assert rec["reporter"]["msisdn"] == "+6281100000001"
    assert rec["reporter"]["identity"] == "+6281100000001"
    assert rec["title"] == "Trotoar di depan pasar rusak dan berlubang."
    assert rec["reply_to"] is None


async def test_same_complaint_five_times_gives_one_record(gateway, rsync):
    await gateway.start_worker()
    answers = await asyncio.gather(*(gateway.post(PATH, json=doc(id="dup-5"), headers=AUTH) for _ in range(5)))
    statuses = sorted(a[0] for a in answers)
    ids = {orjson.loads(a[1])["id"] for a in answers}
    assert statuses == [200, 200, 200, 200, 202]
    assert len(ids) == 1, "every answer names the first record id"
    status, body, _h = await gateway.post(PATH, json=doc(id="dup-5"), headers=AUTH)
    assert status == 200 and orjson.loads(body) == {"id": ids.pop(), "status": "duplicate"}
    await asyncio.sleep(0.5)
    records = await asyncio.to_thread(wait_for_records, rsync, 1, 2.0)
    assert len(records) == 1


async def test_full_payload_record_is_schema_valid(gateway, rsync):
    await gateway.start_worker()
    body = (FIXTURES / "agency-full.json").read_bytes()
    status, _b, _h = await gateway.post(PATH, data=body, headers={**AUTH, "Content-Type": "application/json"})
    assert status == 202
    (rec,) = await asyncio.to_thread(wait_for_records, rsync, 1, 3.0)
    assert rec["confidential"] is True
    assert rec["location"]["lat"] == -6.9875
    assert rec["attachments"][0]["url"].endswith("foto1.jpg")
    assert rec["source"]["sent_at"] == "2026-11-22T01:00:00.000Z"
    assert rec["reporter"]["email"] == "dedi.s@example.id"
