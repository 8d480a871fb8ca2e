"""Redis full (``maxmemory`` reached, ``noeviction``) on the worst day: a backlog grows until Redis
refuses writes. Nothing may be lost and nothing may be dead-lettered for it: providers still get
their 2xx from the disk spool, the worker waits without counting attempts, and once memory is
freed every accepted complaint reaches the core exactly once."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest
import redis.exceptions

from bench.complaints import api_body
from gateway import keys
from tests.support.core import core_records
from tests.support.redis_proc import RedisProc

AUTH = {"Authorization": "Bearer test-http-token", "Content-Type": "application/json"}


@pytest.fixture
def own_redis(tmp_path: Path):
    """A Redis of its own: the test changes its memory limit."""
    proc = RedisProc(tmp_path / "redis-full").start()
    yield proc
    proc.stop()


async def post(gw, i: int) -> int:
    status, _body, _h = await gw.post("/channels/http/complaints", data=api_body("full", i), headers=AUTH)
    return status


async def eventually(cond, timeout: float = 20.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


async def test_a_full_redis_loses_nothing_and_dead_letters_nothing(make_gateway, own_redis):
    rs = own_redis.client()
    gw = await make_gateway(redis_url=own_redis.url, max_attempts=2)
    before_full = [await post(gw, i) for i in range(8)]  # in the stream, not yet dispatched
    assert before_full == [202] * 8
    rs.xgroup_create(keys.INBOUND_STREAM, keys.DISPATCH_GROUP, id="0")  # as a worker that ran before would have

    rs.config_set("maxmemory-policy", "noeviction")
    rs.config_set("maxmemory", 1)  # every write refused: OOM command not allowed
    with pytest.raises(redis.exceptions.OutOfMemoryError):
        rs.set("probe", "1")

    during = [await post(gw, i) for i in range(8, 20)]
    assert during == [202] * 12, "the spool must take what Redis refuses"
    assert rs.xlen("lapor:inbound") == 8
    _s, body, _h = await gw.get("/readyz")
    ready = json.loads(body)
    assert ready["spooling"] is True and ready["spool_pending"] == 12
    assert ready["spooling_because"] == "redis: OutOfMemoryError"

    await gw.start_worker()  # they now read entries they cannot commit: OOM on every write
    await gw.start_worker()  # a second one: it must not reclaim (and count) what the first holds
    await eventually(lambda: rs.xinfo_groups(keys.INBOUND_STREAM)[0]["pending"] == 8, what="the workers reading")
    await asyncio.sleep(3.0)  # ten reclaim intervals (claim_idle_ms=300 in tests)
    pending = rs.xpending_range(keys.INBOUND_STREAM, keys.DISPATCH_GROUP, "-", "+", 100)
    assert len(pending) == 8 and max(p["times_delivered"] for p in pending) == 1, pending
    assert rs.llen("rq:queue:lapor-core") == 0
    assert rs.xlen("lapor:dead") == 0, "Redis being full is not the message's fault"
    assert not rs.hgetall("lapor:attempts"), "no attempt may be counted while Redis refuses writes"

    rs.config_set("maxmemory", 0)  # the operator frees memory (or raises the limit)
    await eventually(lambda: rs.llen("rq:queue:lapor-core") >= 20, what="every complaint in the core")
    await asyncio.sleep(0.5)
    records = await asyncio.to_thread(core_records, rs)
    idem = sorted(rec["idempotency_key"] for rec in records)
    assert idem == sorted(f"api:full-{i}" for i in range(20))  # each exactly once
    assert rs.xlen("lapor:dead") == 0
    assert {rec["channel"] for rec in records} == {"api"}
    _s, body, _h = await gw.get("/readyz")
    assert json.loads(body)["spooling"] is False
