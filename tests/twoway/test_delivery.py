"""The delivery-status engine against a real redis-server: forward only, each status exactly
once as an RQ job valid against the contract, multipart aggregation, provider-id index."""

from __future__ import annotations

import asyncio

import pytest
import redis
import redis.asyncio as aioredis

from config.settings import Settings
from dispatcher.delivery import StatusEngine, status_queue
from tests.twoway.support import status_jobs


@pytest.fixture
def engine(r: aioredis.Redis, settings: Settings) -> StatusEngine:
    return StatusEngine(r, status_queue(settings), 3600)


async def test_forward_only_each_status_once(engine: StatusEngine, rsync: redis.Redis) -> None:
    oid = "ack-01JD0000000000000000000000"
    assert await engine.report(oid, "queued", channel="sms") == "ok"
    assert await engine.report(oid, "sent", provider_ids=["k-1"], parts=1) == "ok"
    assert await engine.report(oid, "sent") == "stale"  # again: dropped
    assert await engine.report(oid, "queued") == "stale"  # late lower status: dropped
    assert await engine.report(oid, "read") == "ok"
    assert await engine.report(oid, "delivered") == "stale"  # after read
    assert await engine.report(oid, "failed", error={"code": "undeliverable"}) == "ok"
    assert await engine.report(oid, "read") == "stale"  # failed is terminal
    jobs = status_jobs(rsync, own=True)
    assert [j for j, _ in jobs] == [f"{oid}-queued", f"{oid}-sent", f"{oid}-read", f"{oid}-failed"]
    sent = jobs[1][1]
    assert sent["kind"] == "ack" and sent["record_id"] == "01JD0000000000000000000000"
    assert sent["provider_message_ids"] == ["k-1"] and sent["channel"] == "sms"
    assert jobs[3][1]["error"] == {"code": "undeliverable"}
    view = await engine.view(oid)
    assert view is not None and view["status"] == "failed"
    assert [h["status"] for h in view["history"]] == ["queued", "sent", "read", "failed"]


async def test_concurrent_reports_enqueue_once(engine: StatusEngine, rsync: redis.Redis) -> None:
    oid = "question-01JD0000000000000000000001"
    await engine.report(oid, "queued", channel="telegram")
    results = await asyncio.gather(*(engine.report(oid, "delivered") for _ in range(20)))
    assert results.count("ok") == 1 and results.count("stale") == 19
    jobs = status_jobs(rsync, own=True)
    assert [j for j, _ in jobs] == [f"{oid}-queued", f"{oid}-delivered"]
    assert jobs[1][1]["kind"] == "question_completeness"


async def test_multipart_delivered_when_every_part_is(engine: StatusEngine, rsync: redis.Redis) -> None:
    oid = "core-msg-1"
    await engine.report(oid, "queued", channel="sms", record_id="R1", kind="status")
    await engine.report(oid, "sent", provider_ids=["p1", "p2", "p3"], parts=3)
    async with engine.redis.pipeline(transaction=True) as pipe:
        engine.index_provider_ids(pipe, oid, "sms", ["p1", "p2", "p3"])
        await pipe.execute()
    assert await engine.report_provider("sms", "p1", "delivered") == "part"
    assert await engine.report_provider("sms", "p3", "delivered") == "part"
    assert await engine.report_provider("sms", "p1", "delivered") == "stale"  # a DLR retried
    assert await engine.report_provider("sms", "nope", "delivered") == "unknown"
    assert [j for j, _ in status_jobs(rsync)] == [f"{oid}-queued", f"{oid}-sent"]
    assert await engine.report_provider("sms", "p2", "delivered") == "ok"
    jobs = status_jobs(rsync, own=True)
    assert jobs[-1][0] == f"{oid}-delivered" and jobs[-1][1]["parts"] == 3


async def test_multipart_failed_if_any_part_failed(engine: StatusEngine, rsync: redis.Redis) -> None:
    oid = "core-msg-2"
    await engine.report(oid, "queued", channel="sms", record_id="R2", kind="answer")
    await engine.report(oid, "sent", provider_ids=["q1", "q2"], parts=2)
    async with engine.redis.pipeline(transaction=True) as pipe:
        engine.index_provider_ids(pipe, oid, "sms", ["q1", "q2"])
        await pipe.execute()
    assert await engine.report_provider("sms", "q2", "failed", error={"code": "undeliverable"}) == "ok"
    assert await engine.report_provider("sms", "q1", "delivered") == "part"  # kept, the message stays failed
    assert [j for j, _ in status_jobs(rsync)] == [f"{oid}-queued", f"{oid}-sent", f"{oid}-failed"]


async def test_unknown_message_without_channel_is_refused(engine: StatusEngine) -> None:
    with pytest.raises(LookupError):
        await engine.report("core-unknown", "sent")
    with pytest.raises(ValueError):
        await engine.report("ack-X", "bogus", channel="sms")
