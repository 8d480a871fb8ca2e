"""The worker's adaptive read size: small batches while it keeps up, the cap when far behind."""

from __future__ import annotations

import asyncio
from pathlib import Path

import redis.asyncio as aioredis

from dispatcher import batch_size
from dispatcher.batch_size import BatchSize, entry_time
from dispatcher.worker import DispatchWorker
from tests.support.core import wait_for_records
from tests.test_dispatcher import msg, put, run_until

NOW = 1_800_000_000.0


def _id(age_s: float) -> str:
    return f"{int((NOW - age_s) * 1000)}-0"


def test_reads_what_commits_within_the_target() -> None:
    size = BatchSize(200)
    assert size.next() == int(batch_size.TARGET_S / 0.0005)  # first guess: ~normalize's cost per record
    for _ in range(30):  # records take 1 ms each: a 25 ms budget holds 25
        size.observe(read=size.next(), asked=size.next() + 1, seconds=size.next() * 0.001, newest_entry_id=_id(0.05),
                     now=NOW)
    assert 24 <= size.next() <= 26
    for _ in range(30):  # fast records: up to the cap, never beyond
        size.observe(read=10, asked=size.next(), seconds=10 * 0.00001, newest_entry_id=_id(0.01), now=NOW)
    assert size.next() == 200
    for _ in range(30):  # very slow records: never below the floor
        size.observe(read=16, asked=50, seconds=16 * 0.005, newest_entry_id=_id(0.2), now=NOW)
    assert size.next() == batch_size.FLOOR


def test_far_behind_it_reads_the_cap_until_it_caught_up() -> None:
    size = BatchSize(200)
    size.observe(read=50, asked=50, seconds=0.025, newest_entry_id=_id(0.3), now=NOW)
    assert size.next() == 50  # a full read of fresh entries: still within the lag budget
    size.observe(read=50, asked=50, seconds=0.025, newest_entry_id=_id(3.0), now=NOW)
    assert size.next() == 200  # full, and its newest entry is seconds old: catching up
    size.observe(read=200, asked=200, seconds=0.1, newest_entry_id=_id(2.0), now=NOW)
    assert size.next() == 200
    size.observe(read=120, asked=200, seconds=0.06, newest_entry_id=_id(1.5), now=NOW)
    assert size.next() == 50  # the stream ran dry: back to small batches


def test_a_cap_below_the_floor_is_kept_and_odd_ids_do_not_break_it() -> None:
    size = BatchSize(1)
    size.observe(read=1, asked=1, seconds=5.0, newest_entry_id="garbage", now=NOW)
    assert size.next() == 1
    assert entry_time("1800000000123-7") == 1800000000.123


async def test_a_worker_that_keeps_up_reads_less_than_the_cap(r: aioredis.Redis, rsync, settings,
                                                              tmp_path: Path) -> None:
    ids = await put(r, tmp_path, [msg(f"b{i}") for i in range(120)])
    w = DispatchWorker(r, settings.model_copy(update={"dispatch_batch": 200}))
    sizes: list[int] = []
    process = w.process

    async def recording(entries):  # type: ignore[no-untyped-def]
        sizes.append(len(entries))
        await process(entries)
    w.process = recording  # type: ignore[method-assign]

    async def done() -> bool:
        return w.processed >= 120
    await run_until(w, done)
    records = await asyncio.to_thread(wait_for_records, rsync, 120, 10.0)
    assert sorted(rec["id"] for rec in records) == sorted(ids)
    assert sizes[0] == int(batch_size.TARGET_S / 0.0005) < 200 and sum(sizes) == 120 and len(sizes) >= 2


def test_a_batch_held_while_redis_refused_does_not_shrink_the_reads_for_long() -> None:
    size = BatchSize(200)
    size.observe(read=50, asked=50, seconds=30.0, newest_entry_id=_id(0.1), now=NOW)  # held 30 s
    assert size.next() >= batch_size.FLOOR
    for _ in range(15):  # fifteen ordinary batches later
        size.observe(read=size.next(), asked=200, seconds=size.next() * 0.0005, newest_entry_id=_id(0.05), now=NOW)
    assert size.next() >= 40
