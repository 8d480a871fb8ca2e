"""The core commit script (dispatcher/commit.lua): exactly once per record, follow-up commands only
with a record enqueued now, the batch committed even when one follow-up command fails, and jobs
RQ reads with or without zlib."""

from __future__ import annotations

import functools
from typing import Any

import pytest
from rq.job import Job
from rq.serializers import JSONSerializer

from dispatcher.core_queue import CommandLog, CoreQueue, Outgoing, commit
from gateway import keys
from gateway.redis_clients import ensure_group

STREAM, GROUP = keys.INBOUND_STREAM, keys.DISPATCH_GROUP


def record(rid: str) -> dict[str, Any]:
    return {"id": rid, "channel": "api", "body": "Jalan rusak di depan pasar"}


async def pending_entries(r, n: int) -> list[str]:
    await ensure_group(r, STREAM, GROUP)
    for i in range(n):
        await r.xadd(STREAM, {"id": f"r{i}", "msg": b"{}"})
    resp = await r.xreadgroup(GROUP, "c1", {STREAM: ">"}, count=n)
    return [eid.decode() for _s, es in resp for eid, _f in es]


def mark(key: str, pipe: Any) -> None:
    pipe.incr(key)


def scripted(key: str, pipe: Any) -> None:  # a follow-up that runs a script: the MULTI path
    pipe.eval("return redis.call('INCR', KEYS[1])", 1, key)


@pytest.mark.parametrize("follow_up", [mark, scripted], ids=["script", "multi"])
async def test_each_record_once_and_its_follow_ups_only_with_it(r, follow_up):
    core = CoreQueue("lapor-core", "lapor_core.receive_complaint")
    entries = await pending_entries(r, 3)
    batch = [Outgoing(record(f"REC{i}"), [entries[i]], [functools.partial(follow_up, f"t:{i}")]) for i in range(3)]
    assert await commit(r, core, batch[:2], stream=STREAM, group=GROUP) == (2, 0)
    # a redelivery of the first two with the third: only the third is new, all three are acknowledged
    again = [Outgoing(record(f"REC{i}"), [entries[i]], [functools.partial(follow_up, f"t:{i}")]) for i in range(3)]
    assert await commit(r, core, again, stream=STREAM, group=GROUP,
                        extra=functools.partial(mark, "t:batch")) == (1, 2)
    assert [x.decode() for x in await r.lrange(core.key, 0, -1)] == ["REC0", "REC1", "REC2"]
    assert [await r.get(f"t:{i}") for i in range(3)] == [b"1", b"1", b"1"]
    assert await r.get("t:batch") == b"1"  # the batch's own commands run whatever was new
    assert (await r.xpending(STREAM, GROUP))["pending"] == 0
    assert await r.sismember("rq:queues", core.key)


async def test_a_failing_follow_up_does_not_lose_the_batch(r):
    core = CoreQueue("lapor-core", "lapor_core.receive_complaint")
    entries = await pending_entries(r, 2)
    await r.set("t:wrong", "a string")

    def wrong_type(pipe: Any) -> None:
        pipe.hset("t:wrong", "field", "value")  # WRONGTYPE

    batch = [Outgoing(record("REC0"), [entries[0]], [wrong_type, functools.partial(mark, "t:0")]),
             Outgoing(record("REC1"), [entries[1]], [functools.partial(mark, "t:1")])]
    assert await commit(r, core, batch, stream=STREAM, group=GROUP) == (2, 0)
    assert await r.llen(core.key) == 2
    assert await r.get("t:0") == b"1" and await r.get("t:1") == b"1"
    assert (await r.xpending(STREAM, GROUP))["pending"] == 0


async def test_commit_survives_a_script_flush(r):
    core = CoreQueue("lapor-core", "lapor_core.receive_complaint")
    entries = await pending_entries(r, 2)
    assert await commit(r, core, [Outgoing(record("REC0"), [entries[0]])], stream=STREAM, group=GROUP) == (1, 0)
    await r.script_flush()
    assert await commit(r, core, [Outgoing(record("REC1"), [entries[1]])], stream=STREAM, group=GROUP) == (1, 0)
    assert await r.llen(core.key) == 2


@pytest.mark.parametrize("compress", [False, True])
async def test_rq_reads_the_job_compressed_or_not(r, rsync, compress):
    core = CoreQueue("lapor-core", "lapor_core.receive_complaint", compress=compress)
    rec = record("REC7")
    assert await commit(r, core, [Outgoing(rec)], stream=STREAM, group=GROUP) == (1, 0)
    raw = await r.hget("rq:job:REC7", "data")
    assert raw.startswith(b"[") != compress
    job = Job.fetch("REC7", connection=rsync, serializer=JSONSerializer)
    assert job.func_name == "lapor_core.receive_complaint" and job.args == [rec] and job.kwargs == {}
    assert job.get_status() == "queued" and job.origin == "lapor-core" and job.description == "complaint REC7"
    assert job.timeout == 180 and job.enqueued_at is not None


def test_command_log_records_what_a_pipe_would_queue():
    log = CommandLog()
    log.set("k", b"v", ex=5)
    log.xadd("s", {"m": b"1"})
    assert log.block() == [2, 5, "SET", "k", b"v", "EX", 5, 5, "XADD", "s", "*", "m", b"1"]
    assert not log.scripted
    log.eval("return 1", 0)
    assert log.scripted
