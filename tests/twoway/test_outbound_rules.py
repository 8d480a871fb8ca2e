"""The core-message worker's rules end to end (real app, real Redis, fake Kannel): privacy,
retries and dead letters, the per-citizen cap, priorities, expiry."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import orjson
import redis
import redis.asyncio as aioredis

from channels.core.reference import reference
from channels.sms.tests.conftest import eventually
from channels.sms.tests.test_kannel import get_url
from channels.sms.tests.test_outbound import FakeSmsApi, routes
from dispatcher import outbound_keys as ok
from dispatcher.outbound_worker import CoreMessageWorker
from tests.support.core import core_records
from tests.twoway.support import AUTH, _async, core_worker, outbound, sms_record, status_jobs


async def final(gw: Any, oid: str, want: str = "failed") -> dict[str, Any]:
    async def check() -> Any:
        status, body, _ = await gw.get(f"/outbound/messages/{oid}", headers=AUTH)
        view = orjson.loads(body)
        return view if status == 200 and view["status"] == want else None

    return await eventually(check, timeout=30)


async def test_public_route_gets_the_neutral_notice_only(twoway: Any, api: FakeSmsApi,
                                                         rsync: redis.Redis) -> None:
    rid = await sms_record(twoway, rsync)
    reply_to = {"channel": "sms", "address": "081234567890", "thread": None, "private": False}
    doc = outbound("pub-1", rid, text="RAHASIA-ISI: jawaban dinas untuk Anda", reply_to=reply_to)
    status, _, _ = await twoway.post("/outbound/messages", json=doc, headers=AUTH)
    assert status == 202
    view = await final(twoway, "pub-1", "sent")
    assert view["public_notice"] is True
    sent = [q["text"] for q in api.kannel if reference(rid) in q["text"] and "kabar" in q["text"]]
    assert sent and not [q for q in api.kannel if "RAHASIA-ISI" in q["text"]]
    assert status_jobs(rsync)[-1][1]["public_notice"] is True


async def test_confidential_record_on_a_public_route_fails_no_private_route(
        twoway: Any, api: FakeSmsApi, rsync: redis.Redis) -> None:
    await twoway.get(get_url(data=b"RAHASIA+pungli+di+kantor+kelurahan+Kab+Bogor"))
    recs = await eventually(lambda: _async(rsync.llen("rq:queue:lapor-core") >= 1))
    assert recs
    rec = core_records(rsync)[-1]
    assert rec["confidential"] or rec["anonymous"]
    reply_to = {"channel": "sms", "address": "081234567890", "private": False}
    doc = outbound("conf-1", rec["id"], text="Jawaban rahasia", reply_to=reply_to)
    assert (await twoway.post("/outbound/messages", json=doc, headers=AUTH))[0] == 202
    view = await final(twoway, "conf-1")
    assert view["history"][-1]["error"]["code"] == "no_private_route"
    assert not [q for q in api.kannel if "Jawaban rahasia" in q["text"]]


async def test_transient_failures_retry_then_send(twoway: Any, api: FakeSmsApi,
                                                  rsync: redis.Redis) -> None:
    rid = await sms_record(twoway, rsync)
    await eventually(lambda: _async(api.kannel))  # the acknowledgement went out first
    api.kannel_answers[:] = [(503, "busy")]
    assert (await twoway.post("/outbound/messages", json=outbound("retry-1", rid, text="Coba lagi"),
                              headers=AUTH))[0] == 202
    await final(twoway, "retry-1", "sent")
    assert len([q for q in api.kannel if q["text"] == "Coba lagi"]) == 1
    assert rsync.hget(ok.message("retry-1"), "attempts") == b"1"


async def test_giving_up_dead_letters_and_fails(twoway: Any, api: FakeSmsApi, rsync: redis.Redis) -> None:
    rid = await sms_record(twoway, rsync)
    await eventually(lambda: _async(api.kannel))
    api.kannel_answers[:] = [(503, "busy")] * 10  # max_attempts is 3 in tests
    assert (await twoway.post("/outbound/messages", json=outbound("dead-1", rid, text="Tidak sampai"),
                              headers=AUTH))[0] == 202
    view = await final(twoway, "dead-1")
    assert view["history"][-1]["error"]["code"] == "provider_error"
    dead = rsync.xrange("lapor:outbound:dead")
    assert [f[b"o"] for _e, f in dead] == [b"dead-1"]
    assert [j for j, _ in status_jobs(rsync)] == ["dead-1-queued", "dead-1-failed"]


async def test_per_citizen_cap_makes_later_messages_wait(make_gateway: Any, api: FakeSmsApi,
                                                         rsync: redis.Redis) -> None:

    gw = await make_gateway(outbound_token="test-outbound-token", outbound_per_citizen_per_hour=1, **routes(api))
    await gw.start_worker()
    async with core_worker(gw, "cap-test", strict=True):
        rid = await sms_record(gw, rsync)
        for n in (1, 2):
            assert (await gw.post("/outbound/messages", json=outbound(f"cap-{n}", rid, text=f"Kabar {n}"),
                                  headers=AUTH))[0] == 202
        await final(gw, "cap-1", "sent")
        await eventually(lambda: _async(rsync.zscore(ok.LATER, "cap-2")))
        assert rsync.zscore(ok.LATER, "cap-2") >= (int(time.time() // 3600) + 1) * 3600  # next hour
        _status, body, _ = await gw.get("/outbound/messages/cap-2", headers=AUTH)
        assert orjson.loads(body)["status"] == "queued"  # waiting, not dropped
        assert not [q for q in api.kannel if q["text"] == "Kabar 2"]


async def test_questions_and_answers_go_before_status_notices(twoway: Any, rsync: redis.Redis) -> None:
    rid = await sms_record(twoway, rsync)
    twoway.core_worker.stop()  # nothing is consumed while the batch builds up
    await asyncio.sleep(0.8)
    for oid, kind in (("p-status", "status"), ("p-notice", "notice"), ("p-question", "question"),
                      ("p-answer", "answer")):
        doc = outbound(oid, rid, text=f"teks {oid}", kind=kind)
        assert (await twoway.post("/outbound/messages", json=doc, headers=AUTH))[0] == 202
    order: list[str] = []

    async def record(msg: Any) -> None:
        order.append(msg.meta["outbound_id"])

    r = aioredis.Redis.from_url(twoway.settings.redis_url)
    cw = CoreMessageWorker(r, twoway.settings, {"sms": record}, "prio-test")
    await cw.ensure_group()
    resp: Any = await r.xreadgroup("outbound-senders", "prio-test", {"lapor:outbound": ">"}, count=50)
    await cw.process([e for _s, es in resp for e in es])
    await r.aclose()
    assert order == ["p-question", "p-answer", "p-status", "p-notice"]


async def test_expired_message_is_not_sent(twoway: Any, api: FakeSmsApi, rsync: redis.Redis) -> None:
    rid = await sms_record(twoway, rsync)
    doc = outbound("exp-1", rid, text="Terlambat", not_after="2020-01-01T00:00:00Z")
    assert (await twoway.post("/outbound/messages", json=doc, headers=AUTH))[0] == 202
    view = await final(twoway, "exp-1")
    assert view["history"][-1]["error"]["code"] == "expired"
    assert not [q for q in api.kannel if q["text"] == "Terlambat"]
