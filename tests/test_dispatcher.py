"""Dispatcher: exactly-once core enqueue, reclaim, dead letters and replay, acknowledgements."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis

from channels.core.hooks import Emit
from channels.core.outbound import OutboundMessage, PermanentSendError, TransientSendError
from dispatcher import dead
from dispatcher.outbound import OutboundWorker
from dispatcher.worker import DispatchWorker
from gateway import keys
from gateway.intake import Intake
from normalizer.models import InboundMessage, ReplyTo, Sender
from tests.support.core import core_records, wait_for_records


def msg(native_id: str, *, reply: bool = False, **meta: Any) -> InboundMessage:
    return InboundMessage(
        channel="sms", provider="kannel", kind="sms", native_id=native_id,
        sender=Sender(kind="msisdn", id="081234567890"), recipient="1708", text=f"Jalan rusak nomor {native_id}",
        reply_to=ReplyTo(channel="sms", address="+6281234567890", private=True) if reply else None, meta=meta)


async def put(r: aioredis.Redis, tmp_path: Path, messages: list[InboundMessage]) -> list[str]:
    it = Intake(r, tmp_path / "spool", dedupe_ttl_s=3600)
    await it.start()
    try:
        res = await it.accept(messages)
    finally:
        await it.close()
    return [x.record_id for x in res]


async def run_until(worker: DispatchWorker, cond, timeout: float = 15.0) -> None:
    task = asyncio.create_task(worker.run())
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if await cond():
                return
            await asyncio.sleep(0.05)
        raise AssertionError("condition not reached in time")
    finally:
        worker.stop()
        await asyncio.wait_for(task, 5)


async def test_records_are_enqueued_once_even_when_processed_twice(r, rsync, settings, tmp_path):
    ids = await put(r, tmp_path, [msg(f"n{i}") for i in range(5)])
    w = DispatchWorker(r, settings)
    await w.ensure_group()
    resp = await r.xreadgroup(keys.DISPATCH_GROUP, w.consumer, {keys.INBOUND_STREAM: ">"}, count=10)
    entries = [w._decode(eid, f) for _s, es in resp for eid, f in es]
    await w.process(entries)
    await w.process(entries)  # a re-delivery after a crash between enqueue and... (XACK is atomic, still)
    records = core_records(rsync)
    assert [x["id"] for x in records] == ids
    assert (await r.xpending(keys.INBOUND_STREAM, keys.DISPATCH_GROUP))["pending"] == 0


async def test_concurrent_workers_enqueue_each_record_exactly_once(r, rsync, settings, tmp_path):
    ids = await put(r, tmp_path, [msg(f"c{i}") for i in range(400)])
    workers = [DispatchWorker(aioredis.Redis.from_url(settings.redis_url), settings,
                              consumer=f"w{i}") for i in range(3)]
    tasks = [asyncio.create_task(w.run()) for w in workers]
    try:
        records = await asyncio.to_thread(wait_for_records, rsync, 400, 20.0)
    finally:
        for w in workers:
            w.stop()
        await asyncio.gather(*tasks)
        for w in workers:
            await w.redis.aclose()
    assert sorted(x["id"] for x in records) == sorted(ids)
    assert len(rsync.lrange("rq:queue:lapor-core", 0, -1)) == 400


async def test_entries_of_a_dead_consumer_are_reclaimed(r, rsync, settings, tmp_path):
    ids = await put(r, tmp_path, [msg(f"d{i}") for i in range(10)])
    await r.xgroup_create(keys.INBOUND_STREAM, keys.DISPATCH_GROUP, id="0", mkstream=True)
    # a worker that read everything and then died (never acknowledged)
    await r.xreadgroup(keys.DISPATCH_GROUP, "dead-worker", {keys.INBOUND_STREAM: ">"}, count=100)
    w = DispatchWorker(r, settings.model_copy(update={"claim_idle_ms": 200}))

    async def done() -> bool:
        return await r.llen("rq:queue:lapor-core") == 10

    await run_until(w, done)
    assert sorted(x["id"] for x in core_records(rsync)) == sorted(ids)


def poison_enricher():
    calls = {"n": 0}

    async def enrich(_r: aioredis.Redis, emits: list[Emit]) -> None:
        if any(em.messages[0].meta.get("poison") for em in emits):
            if len(emits) == 1:
                calls["n"] += 1  # the worker isolates the failing emit, then it counts as one try
            raise ValueError("cannot normalize this one")

    return enrich, calls


async def test_poison_message_goes_to_dead_letters_after_n_tries_and_is_replayable(r, rsync, settings, tmp_path):
    good, bad = msg("good"), msg("bad", poison=True)
    ids = await put(r, tmp_path, [good, bad])
    enrich, calls = poison_enricher()
    s = settings.model_copy(update={"claim_idle_ms": 100, "max_attempts": 3})
    w = DispatchWorker(r, s, enrichers=[enrich])

    async def dead_one() -> bool:
        return await r.xlen(keys.DEAD_STREAM) == 1

    await run_until(w, dead_one)
    assert calls["n"] == 3
    assert [x["id"] for x in core_records(rsync)] == [ids[0]], "the good one is not held up"
    (letter,) = await dead.list_dead(r)
    assert letter["id"] == ids[1] and "cannot normalize this one" in letter["error"]
    assert letter["attempts"] == "3" and letter["channel"] == "sms"
    assert (await r.xpending(keys.INBOUND_STREAM, keys.DISPATCH_GROUP))["pending"] == 0
    # fixed normalizer: replay puts it back with the same record id
    assert await dead.replay_dead(r) == 1
    assert await r.xlen(keys.DEAD_STREAM) == 0
    w2 = DispatchWorker(r, s, enrichers=[])

    async def both() -> bool:
        return await r.llen("rq:queue:lapor-core") == 2

    await run_until(w2, both)
    assert sorted(x["id"] for x in core_records(rsync)) == sorted(ids)


async def test_unreadable_entry_is_dead_lettered_at_once(r, settings):
    await r.xadd(keys.INBOUND_STREAM, {"id": "X", "msg": b"{not json"})
    w = DispatchWorker(r, settings)

    async def dead_one() -> bool:
        return await r.xlen(keys.DEAD_STREAM) == 1

    await run_until(w, dead_one)
    (letter,) = await dead.list_dead(r)
    assert "unreadable" in letter["error"]


async def test_worker_lost_repeatedly_on_an_entry_dead_letters_it(r, settings, tmp_path):
    await put(r, tmp_path, [msg("crashy")])
    await r.xgroup_create(keys.INBOUND_STREAM, keys.DISPATCH_GROUP, id="0", mkstream=True)
    s = settings.model_copy(update={"claim_idle_ms": 50, "max_attempts": 2})
    # three workers in a row took it and died (delivery count 3 > max_attempts 2)
    for name in ("a", "b", "c"):
        await r.xautoclaim(keys.INBOUND_STREAM, keys.DISPATCH_GROUP, name, 0, "0-0")
        await r.xreadgroup(keys.DISPATCH_GROUP, name, {keys.INBOUND_STREAM: ">"})
    await asyncio.sleep(0.1)
    w = DispatchWorker(r, s)

    async def dead_one() -> bool:
        return await r.xlen(keys.DEAD_STREAM) == 1

    await run_until(w, dead_one)
    assert "worker lost" in (await dead.list_dead(r))[0]["error"]


async def test_acknowledgement_is_queued_with_the_record(r, rsync, settings, tmp_path):
    (rid,) = await put(r, tmp_path, [msg("ack-1", reply=True)])
    w = DispatchWorker(r, settings)

    async def done() -> bool:
        return await r.xlen(keys.OUTBOUND_STREAM) == 1

    await run_until(w, done)
    ((_eid, fields),) = await r.xrange(keys.OUTBOUND_STREAM)
    out = OutboundMessage.loads(fields[b"m"])
    assert out.record_id == rid and out.channel == "sms" and out.address == "+6281234567890"
    assert out.reference and out.reference in out.text and len(out.text) <= 160
    assert "Laporan Anda diterima" in out.text


class RecordingSender:
    def __init__(self, fail_transient: int = 0, permanent: bool = False) -> None:
        self.sent: list[OutboundMessage] = []
        self.calls = 0
        self.fail_transient = fail_transient
        self.permanent = permanent

    async def __call__(self, m: OutboundMessage) -> None:
        self.calls += 1
        if self.permanent:
            raise PermanentSendError("number blocked")
        if self.calls <= self.fail_transient:
            raise TransientSendError("gateway timeout", retry_after=0.05)
        self.sent.append(m)


async def run_outbound(r, senders, cond, **kw) -> None:
    ow = OutboundWorker(r, senders, "test-consumer", backoff_s=0.05, **kw)
    task = asyncio.create_task(ow.run())
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not await cond():
            await asyncio.sleep(0.05)
    finally:
        ow.stop()
        await asyncio.wait_for(task, 5)


def out(addr: str = "+6281234567890", n: int = 0) -> OutboundMessage:
    return OutboundMessage(channel="sms", address=addr, text="ref", record_id=f"R{n}")


async def test_outbound_retries_transient_failures(r):
    sender = RecordingSender(fail_transient=2)
    await r.xadd(keys.OUTBOUND_STREAM, {"m": out().dumps()})

    async def sent() -> bool:
        return len(sender.sent) == 1

    await run_outbound(r, {"sms": sender}, sent)
    assert sender.calls == 3 and sender.sent[0].attempts == 2


async def test_outbound_dead_letters_permanent_failures_and_unknown_channels(r):
    await r.xadd(keys.OUTBOUND_STREAM, {"m": out().dumps()})
    await r.xadd(keys.OUTBOUND_STREAM, {"m": OutboundMessage(channel="pigeon", address="x", text="t").dumps()})

    async def two_dead() -> bool:
        return await r.xlen(keys.OUTBOUND_DEAD) == 2

    await run_outbound(r, {"sms": RecordingSender(permanent=True)}, two_dead)
    errors = sorted(f[b"error"].decode() for _e, f in await r.xrange(keys.OUTBOUND_DEAD))
    assert errors[0].startswith("no sender registered for channel pigeon")
    assert errors[1].startswith("permanent: number blocked")


async def test_outbound_gives_up_after_max_attempts(r):
    sender = RecordingSender(fail_transient=100)
    await r.xadd(keys.OUTBOUND_STREAM, {"m": out().dumps()})

    async def dead_one() -> bool:
        return await r.xlen(keys.OUTBOUND_DEAD) == 1

    await run_outbound(r, {"sms": sender}, dead_one, max_attempts=3)
    assert sender.calls == 3


async def test_a_flood_from_one_number_does_not_produce_a_flood_of_replies(r):
    sender = RecordingSender()
    for i in range(10):
        await r.xadd(keys.OUTBOUND_STREAM, {"m": out(n=i).dumps()})
    await r.xadd(keys.OUTBOUND_STREAM, {"m": out("+6289999999999", 99).dumps()})

    async def drained() -> bool:
        info = await r.xinfo_groups(keys.OUTBOUND_STREAM)
        return bool(info) and info[0]["pending"] == 0 and info[0]["lag"] == 0

    await run_outbound(r, {"sms": sender}, drained, rate_per_minute=3)
    per_addr: dict[str, int] = {}
    for m in sender.sent:
        per_addr[m.address] = per_addr.get(m.address, 0) + 1
    assert per_addr == {"+6281234567890": 3, "+6289999999999": 1}


async def test_trim_keeps_pending_and_unread_entries(r, settings, tmp_path):
    await put(r, tmp_path, [msg(f"t{i}") for i in range(5)])
    w = DispatchWorker(r, settings.model_copy(update={"stream_retention_s": 60}))
    await w.ensure_group()
    await r.xreadgroup(keys.DISPATCH_GROUP, "someone", {keys.INBOUND_STREAM: ">"}, count=2)
    await w.trim()
    assert await r.xlen(keys.INBOUND_STREAM) == 5, "nothing old enough, nothing unprocessed dropped"


async def test_renormalize_range_reports_records_and_requeues_only_missing(r, rsync, settings, tmp_path):
    ids = await put(r, tmp_path, [msg("rr1"), msg("rr2")])
    w = DispatchWorker(r, settings)

    async def done() -> bool:
        return await r.llen("rq:queue:lapor-core") == 2

    await run_until(w, done)
    records, requeued = await dead.renormalize_range(r, requeue_missing=True)
    assert [x["id"] for x in records] == ids and requeued == 0
    await r.delete(keys.enqueued(ids[1]))  # as if the record had been lost before reaching the core
    _records, requeued = await dead.renormalize_range(r, requeue_missing=True)
    assert requeued == 1


async def test_the_same_record_twice_in_one_batch_is_enqueued_once(r, rsync, settings, tmp_path):
    from channels.core.hooks import Decision

    (rid,) = await put(r, tmp_path, [msg("twice")])

    class Twice:
        def applies(self, _m: InboundMessage) -> bool:
            return True

        async def prepare(self, _r: aioredis.Redis, m: InboundMessage) -> Decision:
            return Decision(emit=[Emit([m]), Emit([m])])

        async def sweep(self, _r: aioredis.Redis) -> list[Emit]:
            return []

    w = DispatchWorker(r, settings, preprocessors=[Twice()])

    async def done() -> bool:
        return await r.llen("rq:queue:lapor-core") == 1

    await run_until(w, done)
    assert [x["id"] for x in core_records(rsync)] == [rid]
    assert await r.xlen(keys.DEAD_STREAM) == 0
    assert (await r.xpending(keys.INBOUND_STREAM, keys.DISPATCH_GROUP))["pending"] == 0
