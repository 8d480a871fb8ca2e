"""End to end: signed webhook → intake → dispatcher → core queue (schema-valid records) →
acknowledgement through the (fake) Send API; edits and removals filed, not sent to the core."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import orjson
import pytest

from channels.core.reference import reference
from channels.meta.hooks import revision_key
from channels.meta.inbound import PATH
from tests.support.core import wait_for_records
from tests.support.fixtures import TOKENS
from tests.support.hub_webhook import post_signed

PAGE, IG = "101010101010101", "17841400000000000"
PSID, IGSID = "6543210987654321", "9988776655443322"


def now_ms() -> int:
    return int(time.time() * 1000)


def dm(mid: str, text: str, *, obj: str = "page", sender: str = PSID, ts: int | None = None) -> dict[str, Any]:
    account = PAGE if obj == "page" else IG
    return {"object": obj, "entry": [{"id": account, "time": now_ms(), "messaging": [
        {"sender": {"id": sender}, "recipient": {"id": account}, "timestamp": ts or now_ms(),
         "message": {"mid": mid, "text": text}}]}]}


def feed_comment(cid: str, text: str, *, verb: str = "add", created: int | None = None) -> dict[str, Any]:
    value = {"from": {"id": "5555555555", "name": "Budi Santoso"}, "post_id": f"{PAGE}_202020", "comment_id": cid,
             "created_time": created or int(time.time()), "item": "comment", "parent_id": f"{PAGE}_202020",
             "verb": verb}
    if verb != "remove":
        value["message"] = text
    return {"object": "page", "entry": [{"id": PAGE, "time": int(time.time()), "changes": [
        {"field": "feed", "value": value}]}]}


def ig_comment(cid: str, text: str) -> dict[str, Any]:
    return {"object": "instagram", "entry": [{"id": IG, "time": int(time.time()), "changes": [{"field": "comments",
            "value": {"from": {"id": IGSID, "username": "warga_bekasi"}, "id": cid, "text": text,
                      "media": {"id": "17900000000000002", "media_product_type": "FEED"}}}]}]}


async def post(gw: Any, doc: dict[str, Any]) -> dict[str, Any]:
    return orjson.loads(await post_signed(gw, PATH, TOKENS["meta_app_secret"], doc))


@pytest.fixture
async def gw(make_gateway, graph):
    g = await make_gateway(meta_graph_url=graph.url, meta_page_id=PAGE)
    await g.start_worker()  # the registry's senders and preprocessors: the Meta ones included
    return g


async def test_dms_and_comments_reach_core_and_are_acknowledged_privately(gw, graph, rsync):
    await post(gw, dm("m_flow_1", "Lampu jalan mati di RT 04, mohon diperbaiki."))
    await post(gw, dm("m_flow_ig_1", "Mau lapor pungli di kelurahan", obj="instagram", sender=IGSID))
    await post(gw, feed_comment(f"{PAGE}_303031", "#rahasia Kepala desa minta uang untuk surat domisili."))
    await post(gw, ig_comment("17890000000000011", "Jembatan retak di Bekasi Timur"))
    records = await asyncio.to_thread(wait_for_records, rsync, 4, 15.0)  # validated against the contract
    by_key = {rec["idempotency_key"]: rec for rec in records}
    assert set(by_key) == {"facebook:m_flow_1", "instagram:m_flow_ig_1", f"facebook:{PAGE}_303031",
                           "instagram:17890000000000011"}
    fb = by_key["facebook:m_flow_1"]
    assert fb["channel"] == "facebook" and fb["source"]["provider"] == "meta" and fb["source"]["kind"] == "dm"
    assert fb["reporter"]["identity_kind"] == "facebook" and fb["reporter"]["identity"] == PSID
    assert fb["reply_to"] == {"channel": "facebook", "address": PSID, "thread": None, "private": True}
    secret = by_key[f"facebook:{PAGE}_303031"]
    assert secret["confidential"] is True and secret["reply_to"]["private"] is False
    assert secret["body"].startswith("Kepala desa") and secret["original_text"].startswith("#rahasia")
    assert secret["reporter"]["display_name"] == "Budi Santoso"
    assert by_key["instagram:17890000000000011"]["reporter"]["handle"] == "warga_bekasi"

    calls = await graph.wait_calls(4)
    assert graph.rejected == []
    got = {json.dumps(c["body"]["recipient"], sort_keys=True): c["body"]["message"]["text"] for c in calls}
    expected = {
        json.dumps({"id": PSID}): fb["id"],
        json.dumps({"id": IGSID}): by_key["instagram:m_flow_ig_1"]["id"],
        json.dumps({"comment_id": f"{PAGE}_303031"}): secret["id"],
        json.dumps({"comment_id": "17890000000000011"}): by_key["instagram:17890000000000011"]["id"],
    }
    assert set(got) == set(expected), "every ack is a DM or a private reply, never anything public"
    for rcpt, record_id in expected.items():
        assert reference(record_id) in got[rcpt]


async def test_old_event_is_recorded_but_not_acknowledged(gw, graph, rsync, r):
    two_days_ago = now_ms() - 2 * 24 * 3600 * 1000
    await post(gw, dm("m_flow_old", "Laporan lama yang baru sampai", ts=two_days_ago))
    (rec,) = await asyncio.to_thread(wait_for_records, rsync, 1, 15.0)
    assert rec["idempotency_key"] == "facebook:m_flow_old"
    for _ in range(200):
        dead = await r.xrange("lapor:outbound:dead")
        if dead:
            break
        await asyncio.sleep(0.05)
    assert len(dead) == 1 and b"24-hour" in dead[0][1][b"error"]
    assert graph.calls == []


async def test_throttled_send_is_retried(gw, graph, rsync):
    graph.failures.append((429, {"error": {"message": "slow down", "code": 4}}, {"Retry-After": "0"}))
    graph.failures.append((500, {"error": {"message": "unknown error", "code": 1, "is_transient": True}}, {}))
    await post(gw, dm("m_flow_retry", "Sampah menumpuk di pasar"))
    (rec,) = await asyncio.to_thread(wait_for_records, rsync, 1, 15.0)
    calls = await graph.wait_calls(1, timeout=20)
    assert len(calls) == 1 and reference(rec["id"]) in calls[0]["body"]["message"]["text"]
    assert graph.failures == []


async def test_edits_are_linked_records_and_removals_are_filed(gw, graph, rsync, r):
    cid = f"{PAGE}_303099"
    await post(gw, feed_comment(cid, "Jalan berlubang di Jl. Merdeka"))
    (rec,) = await asyncio.to_thread(wait_for_records, rsync, 1, 15.0)
    await post(gw, feed_comment(cid, "Jalan berlubang di Jl. Merdeka No. 10", verb="edited"))
    await post(gw, feed_comment(cid, "", verb="remove"))
    await post(gw, feed_comment(cid, "Jalan berlubang di Jl. Merdeka No. 10", verb="edited"))  # redelivery
    key = revision_key("facebook", cid)
    for _ in range(300):
        filed = await r.hgetall(key)
        if len(filed) >= 2:
            break
        await asyncio.sleep(0.05)
    docs = {k.decode(): orjson.loads(v) for k, v in filed.items()}
    assert set(docs) == {f"remove:{cid}", next(k for k in docs if k.startswith(f"edit:{cid}:"))}
    edit = next(v for k, v in docs.items() if k.startswith("edit:"))
    assert edit["record_id"] == rec["id"] and edit["text"] == "Jalan berlubang di Jl. Merdeka No. 10"
    assert docs[f"remove:{cid}"]["record_id"] == rec["id"]
    # the edit reaches the core once (the redelivery is a duplicate): flagged, linked to the original
    first, edited = await asyncio.to_thread(wait_for_records, rsync, 2, 15.0)
    assert first["id"] == rec["id"]
    assert edited["flags"] == ["edited"] and edited["conversation"]["in_reply_to"] == rec["id"]
    assert edited["body"] == "Jalan berlubang di Jl. Merdeka No. 10" and edited["reply_to"] is None
    await asyncio.sleep(0.5)
    assert rsync.llen("rq:queue:lapor-core") == 2, "a removal or a redelivered edit is no record"
    calls = await graph.wait_calls(1)
    await asyncio.sleep(0.5)
    assert len(calls) == 1, "only the complaint itself is acknowledged"


async def test_batch_of_50_is_one_delivery(gw, rsync):
    doc = {"object": "page", "entry": [dm(f"m_b50_{i}", f"Laporan nomor {i}", sender=f"65432109876{i:05d}")["entry"][0]
                                       for i in range(50)]}
    answer = await post(gw, doc)
    assert answer == {"status": "ok", "accepted": 50, "duplicates": 0}
    records = await asyncio.to_thread(wait_for_records, rsync, 50, 20.0)
    assert sorted(rec["idempotency_key"] for rec in records) == sorted(f"facebook:m_b50_{i}" for i in range(50))
