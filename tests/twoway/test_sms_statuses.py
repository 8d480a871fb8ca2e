"""SMS delivery statuses end to end: the core's message goes out through the fake Kannel/Jasmin
with a ``dlr-url`` per part, the delivery reports come back over HTTP exactly as those gateways
send them, and the statuses reach the core's status queue in order, each validated against the
contract. Forged reports are refused and record nothing."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urlencode

import orjson
import redis

from channels.core.reference import reference
from channels.sms.tests.conftest import eventually
from channels.sms.tests.test_jasmin import FORM, form
from channels.sms.tests.test_outbound import FakeSmsApi
from gateway import metrics
from tests.support.core import wait_for_records
from tests.twoway.support import AUTH, _async, dlr_parts, dlr_path, outbound, sms_record, status_jobs

LONG = "Tindak lanjut laporan: " + "perbaikan jalan akan dilakukan bulan depan oleh dinas terkait. " * 24


def ids(r: redis.Redis, prefix: str) -> list[str]:
    return [j for j, _ in status_jobs(r, own=True) if j.startswith(prefix)]


async def test_kannel_long_sms_parts_and_dlrs_delivered_after_every_part(twoway: Any, api: FakeSmsApi,
                                                                          rsync: redis.Redis) -> None:
    rid = await sms_record(twoway, rsync)
    assert len(LONG) >= 1500
    assert (await twoway.post("/outbound/messages", json=outbound("k-long", rid, text=LONG), headers=AUTH))[0] == 202
    await eventually(lambda: _async(ids(rsync, "k-long-") == ["k-long-queued", "k-long-sent"]))
    parts = dlr_parts(api.kannel, "k-long")
    assert 2 <= len(parts) <= 4
    assert "".join(q["text"] for q in parts).endswith(reference(rid))
    for n, q in enumerate(parts, 1):  # the right citizen, one concatenation reference, part n of N
        assert q["to"].endswith("81234567890") and q["dlr-mask"] == "31"
        udh = q["udh"].encode("latin-1")
        assert udh[:3] == b"\x05\x00\x03" and udh[4:] == bytes([len(parts), n])
        assert "type=%d" in q["dlr-url"] and "token=" in q["dlr-url"]
    assert len({q["udh"][3] for q in parts}) == 1
    # Kannel: "sent to SMSC" for each part, then "delivered" part by part
    for q in parts:
        status, body, _ = await twoway.get(dlr_path(q, 8))
        assert (status, body) == (200, b"ok")
    for q in parts[:-1]:
        assert (await twoway.get(dlr_path(q, 1)))[0] == 200
    await asyncio.sleep(0.3)
    assert ids(rsync, "k-long-") == ["k-long-queued", "k-long-sent"]  # not delivered before the last part
    assert (await twoway.get(dlr_path(parts[-1], 1)))[0] == 200
    assert (await twoway.get(dlr_path(parts[-1], 1)))[0] == 200  # Kannel retrying: recorded once
    await eventually(lambda: _async(ids(rsync, "k-long-") == ["k-long-queued", "k-long-sent", "k-long-delivered"]))
    delivered = dict(status_jobs(rsync))["k-long-delivered"]
    assert delivered["parts"] == len(parts) and delivered["truncated"] is True and delivered["record_id"] == rid
    view = orjson.loads((await twoway.get("/outbound/messages/k-long", headers=AUTH))[1])
    assert [h["status"] for h in view["history"]] == ["queued", "sent", "delivered"]


async def test_kannel_failed_dlr_and_the_acknowledgement_reports_too(twoway: Any, api: FakeSmsApi,
                                                                     rsync: redis.Redis) -> None:
    rid = await sms_record(twoway, rsync)
    (ack,) = await eventually(lambda: _async(dlr_parts(api.kannel, f"ack-{rid}")))
    await eventually(lambda: _async(ids(rsync, f"ack-{rid}-") == [f"ack-{rid}-sent"]))
    assert (await twoway.get(dlr_path(ack, 1)))[0] == 200
    await eventually(lambda: _async(len(ids(rsync, f"ack-{rid}-")) == 2))
    ack_delivered = dict(status_jobs(rsync, own=True))[f"ack-{rid}-delivered"]
    assert ack_delivered["kind"] == "ack" and ack_delivered["channel"] == "sms"

    assert (await twoway.post("/outbound/messages", json=outbound("k-fail", rid), headers=AUTH))[0] == 202
    (q,) = await eventually(lambda: _async(dlr_parts(api.kannel, "k-fail")))
    await eventually(lambda: _async(len(ids(rsync, "k-fail-")) == 2))
    assert (await twoway.get(dlr_path(q, 16)))[0] == 200
    assert (await twoway.get(dlr_path(q, 1)))[0] == 200  # late "delivered" after failed: dropped
    await eventually(lambda: _async(len(ids(rsync, "k-fail-")) == 3))
    await asyncio.sleep(0.3)
    assert ids(rsync, "k-fail-") == ["k-fail-queued", "k-fail-sent", "k-fail-failed"]
    assert dict(status_jobs(rsync))["k-fail-failed"]["error"]["code"] == "rejected"


async def test_forged_and_unknown_dlrs(twoway: Any, api: FakeSmsApi, rsync: redis.Redis) -> None:
    rid = await sms_record(twoway, rsync)
    assert (await twoway.post("/outbound/messages", json=outbound("k-forged", rid), headers=AUTH))[0] == 202
    (q,) = await eventually(lambda: _async(dlr_parts(api.kannel, "k-forged")))
    await eventually(lambda: _async(len(ids(rsync, "k-forged-")) == 2))
    path = dlr_path(q, 1)
    assert (await twoway.get(path.replace("token=test-sms-token", "token=wrong")))[0] == 403
    assert (await twoway.get(path.replace("token=test-sms-token", "")))[0] == 401
    assert (await twoway.post("/channels/sms/jasmin/dlr?o=k-forged&token=nope",
                              data=urlencode({"id": "x", "message_status": "DELIVRD"}), headers=FORM))[0] == 403
    await asyncio.sleep(0.3)
    assert ids(rsync, "k-forged-") == ["k-forged-queued", "k-forged-sent"]
    before = metrics._buf.counters.get((metrics.EVENTS.name, "sms|status_unknown"), 0)
    status, body, _ = await twoway.get("/channels/sms/kannel/dlr?o=not-ours&p=1&type=1&token=test-sms-token")
    assert (status, body) == (200, b"ok")
    assert metrics._buf.counters.get((metrics.EVENTS.name, "sms|status_unknown"), 0) == before + 1
    assert rsync.exists("lapor:out:not-ours") == 0

    def logged() -> bool:
        rows = [orjson.loads(x) for x in rsync.lrange("lapor:chlog:sms", 0, 20)]
        return any(row.get("path") == "/channels/sms/kannel/dlr" and row.get("status_unknown") == 1
                   and row.get("status") == 200 for row in rows)

    await eventually(lambda: _async(logged()))


async def test_jasmin_receipts_by_our_id_and_by_jasmins_id(twoway: Any, api: FakeSmsApi, rsync: redis.Redis) -> None:
    status, _, _ = await twoway.post("/channels/sms/jasmin?token=test-sms-token",
                                     data=form("mo-j1", b"Sekolah rusak di Kab Bogor"), headers=FORM)
    assert status == 200
    rid = str((await asyncio.to_thread(wait_for_records, rsync, 1))[-1]["id"])
    for oid in ("j-1", "j-2"):
        assert (await twoway.post("/outbound/messages", json=outbound(oid, rid, text=LONG), headers=AUTH))[0] == 202
        await eventually(lambda oid=oid: _async(len(ids(rsync, f"{oid}-")) == 2))
    q1 = next(q for q in api.jasmin if "o=j-1" in q.get("dlr-url", ""))
    q2 = next(q for q in api.jasmin if "o=j-2" in q.get("dlr-url", ""))
    assert q1["dlr"] == "yes" and q1["dlr-level"] == "3" and q1["dlr-method"] == "POST"
    sent = dict(status_jobs(rsync))["j-1-sent"]
    assert sent["provider_message_ids"] == [q1["_id"]] and sent["parts"] >= 2
    # j-1: the dlr-url as given (our id in it); SMSC level then terminal level
    path = dlr_path(q1)
    for fields in ({"id": q1["_id"], "message_status": "ESME_ROK", "level": "1"},
                   {"id": q1["_id"], "message_status": "DELIVRD", "level": "2"}):
        status, body, _ = await twoway.post(path, data=urlencode(fields), headers=FORM)
        assert (status, body) == (200, b"ACK/Jasmin")
    await eventually(lambda: _async(ids(rsync, "j-1-") == ["j-1-queued", "j-1-sent", "j-1-delivered"]))
    # j-2: a receipt that only names Jasmin's message id (a dlr-url without ours)
    status, body, _ = await twoway.post("/channels/sms/jasmin/dlr?token=test-sms-token",
                                        data=urlencode({"id": q2["_id"], "message_status": "UNDELIV",
                                                        "level": "2"}), headers=FORM)
    assert (status, body) == (200, b"ACK/Jasmin")
    await eventually(lambda: _async(ids(rsync, "j-2-") == ["j-2-queued", "j-2-sent", "j-2-failed"]))
    assert dict(status_jobs(rsync))["j-2-failed"]["error"]["code"] == "undeliverable"


async def test_redis_down_dlr_gets_503_and_its_retry_is_recorded(twoway: Any, api: FakeSmsApi, rsync: redis.Redis,
                                                                 redis_proc: Any) -> None:
    rid = await sms_record(twoway, rsync)
    assert (await twoway.post("/outbound/messages", json=outbound("k-down", rid), headers=AUTH))[0] == 202
    (q,) = await eventually(lambda: _async(dlr_parts(api.kannel, "k-down")))
    await eventually(lambda: _async(len(ids(rsync, "k-down-")) == 2))
    rsync.save()  # the test Redis runs without AOF: keep the data over the restart
    redis_proc.stop()
    try:
        status, _, headers = await twoway.get(dlr_path(q, 1))
        assert status == 503 and headers.get("Retry-After")  # Kannel retries the report later
    finally:
        redis_proc.start()
    try:
        status, _, _ = await twoway.get(dlr_path(q, 1))  # the retry, with Redis back
        assert status == 200
        await eventually(lambda: _async(ids(rsync, "k-down-") == ["k-down-queued", "k-down-sent",
                                                                   "k-down-delivered"]))
    finally:  # leave no snapshot behind: later tests restart this Redis and must find it empty
        rsync.flushall()
        rsync.save()
