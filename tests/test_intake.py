"""Intake: atomic idempotent batches, group commit, and the spool when Redis is down."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from gateway import keys
from gateway.intake import Intake, IntakeUnavailable
from normalizer.models import InboundMessage, Sender
from tests.support.redis_proc import RedisProc


def msg(native_id: str, text: str = "Lampu jalan mati") -> InboundMessage:
    return InboundMessage(channel="api", provider="http-api", kind="submission", native_id=native_id,
                          sender=Sender(kind="api", id="agency"), text=text)


@pytest.fixture
async def intake(r: aioredis.Redis, tmp_path: Path):
    it = Intake(r, tmp_path / "spool", dedupe_ttl_s=3600, flush_interval_s=0.05)
    await it.start()
    yield it
    await it.close()


async def test_batch_is_stored_with_duplicates_answered_by_first_id(intake: Intake, r: aioredis.Redis):
    first = await intake.accept([msg("a")])
    res = await intake.accept([msg("b"), msg("a"), msg("b")])
    assert [x.status for x in res] == ["new", "duplicate", "duplicate"]
    assert res[1].record_id == first[0].record_id
    assert res[2].record_id == res[0].record_id
    entries = await r.xrange(keys.INBOUND_STREAM)
    assert [e[1][b"id"].decode() for e in entries] == [first[0].record_id, res[0].record_id]
    stored = InboundMessage.model_validate_json(entries[1][1][b"msg"])
    assert stored.native_id == "b" and stored.id == res[0].record_id and stored.received_at is not None
    assert await r.ttl(keys.idem("api:a")) > 3000


async def test_concurrent_callers_share_round_trips(intake: Intake, r: aioredis.Redis):
    results = await asyncio.gather(*(intake.accept([msg(f"c{i}")]) for i in range(300)))
    assert all(x[0].status == "new" for x in results)
    assert await r.xlen(keys.INBOUND_STREAM) == 300
    assert intake.stats.batches < 100, f"{intake.stats.batches} round trips for 300 callers"


@pytest.fixture
async def own_redis(tmp_path: Path):
    """A redis-server of this test's own, with AOF, so the test can stop and restart it."""
    proc = RedisProc(tmp_path / "redis", aof=True).start()
    client = aioredis.Redis.from_url(proc.url, socket_timeout=2, socket_connect_timeout=1)
    yield proc, client
    await client.aclose()
    proc.stop()


async def test_redis_down_spools_then_flushes_in_order_without_duplicates(own_redis, tmp_path: Path):
    proc, client = own_redis
    it = Intake(client, tmp_path / "spool", dedupe_ttl_s=3600, flush_interval_s=0.05)
    await it.start()
    try:
        before = await it.accept([msg("m0")])
        assert before[0].status == "new"
        proc.stop()
        spooled = []
        for i in range(1, 21):
            spooled += await it.accept([msg(f"m{i}")])
        spooled += await it.accept([msg("m0")])  # a provider retry of an already stored message
        assert {x.status for x in spooled} == {"spooled"}
        assert it.spooling
        files = list((tmp_path / "spool").glob("*.jsonl"))
        assert files and sum(len(f.read_bytes().splitlines()) for f in files) == 21
        proc.start()
        for _ in range(200):
            if not it.spooling:
                break
            await asyncio.sleep(0.05)
        assert not it.spooling, "spool did not drain after Redis came back"
        entries = await client.xrange(keys.INBOUND_STREAM)
        natives = [InboundMessage.model_validate_json(f[b"msg"]).native_id for _e, f in entries]
        assert natives == [f"m{i}" for i in range(21)], "in order, m0 once"
        assert not list((tmp_path / "spool").glob("*.jsonl"))
        after = await it.accept([msg("m21")])
        assert after[0].status == "new", "back to direct writes"
    finally:
        await it.close()


async def test_pollers_can_refuse_the_spool(own_redis, tmp_path: Path):
    proc, client = own_redis
    it = Intake(client, tmp_path / "spool", dedupe_ttl_s=3600)
    await it.start()
    try:
        proc.stop()
        with pytest.raises(IntakeUnavailable):
            await it.accept([msg("p1")], allow_spool=False)
        assert not (tmp_path / "spool").exists() or not list((tmp_path / "spool").glob("*.jsonl"))
    finally:
        await it.close()


async def test_redis_and_spool_down_is_unavailable(own_redis, tmp_path: Path):
    proc, client = own_redis
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the spool directory should be")
    it = Intake(client, blocker, dedupe_ttl_s=3600)
    await it.start()
    try:
        proc.stop()
        with pytest.raises(IntakeUnavailable):
            await it.accept([msg("x1")])
    finally:
        await it.close()


async def test_spool_left_by_a_crashed_process_is_flushed_by_the_next(own_redis, tmp_path: Path):
    _proc, client = own_redis
    from gateway.intake import serialize
    from gateway.spool import Spool, SpoolEntry

    spool_dir = tmp_path / "spool"
    m = msg("orphan")
    m.stamp("01JAAAAAAAAAAAAAAAAAAAAAAA")
    old = Spool(spool_dir)
    old.append_sync([SpoolEntry(m.idempotency_key, m.id or "", serialize(m))])
    with (spool_dir / sorted(p.name for p in spool_dir.iterdir())[0]).open("ab") as f:
        f.write(b'{"k": "api:torn", "i": "01J')  # torn last line: the crash happened mid-write
    old.rotate()
    it = Intake(client, spool_dir, dedupe_ttl_s=3600, flush_interval_s=0.05)
    assert it.spooling, "a new process notices the spool"
    await it.start()
    try:
        for _ in range(100):
            if await client.xlen(keys.INBOUND_STREAM):
                break
            await asyncio.sleep(0.05)
        entries = await client.xrange(keys.INBOUND_STREAM)
        assert [f[b"id"].decode() for _e, f in entries] == ["01JAAAAAAAAAAAAAAAAAAAAAAA"]
    finally:
        await it.close()


async def test_http_request_during_outage_is_accepted_and_delivered_once(own_redis, make_settings, rsync):
    from tests.support.core import wait_for_records
    from tests.support.fixtures import GatewayUnderTest

    proc, _client = own_redis
    gw = await GatewayUnderTest(make_settings(redis_url=proc.url)).start()
    try:
        proc.stop()
        auth = {"Authorization": "Bearer test-http-token"}
        body = {"id": "outage-1", "text": "Banjir di jalan utama", "reporter": {"phone": "081234567890"}}
        status, answer, _h = await gw.post("/channels/http/complaints", json=body, headers=auth)
        assert status == 202, answer
        proc.start()
        await gw.start_worker()
        import redis as sync_redis
        core = sync_redis.Redis.from_url(proc.url)
        records = await asyncio.to_thread(wait_for_records, core, 1, 10.0)
        assert [x["idempotency_key"] for x in records] == ["api:outage-1"]
        status, answer, _h = await gw.post("/channels/http/complaints", json=body, headers=auth)
        assert status == 200 and b"duplicate" in answer
        core.close()
    finally:
        await gw.stop()


def test_record_id_is_a_ulid_of_now() -> None:
    """26 Crockford digits, most significant first: the first 10 are the millisecond timestamp."""
    import time

    from gateway.intake import _CROCKFORD, new_record_id

    before = time.time_ns() // 1_000_000
    ids = [new_record_id() for _ in range(2000)]
    after = time.time_ns() // 1_000_000
    assert len(set(ids)) == len(ids)
    for rid in ids:
        assert len(rid) == 26 and set(rid) <= set(_CROCKFORD)
        value = 0
        for ch in rid:
            value = value * 32 + _CROCKFORD.index(ch)
        assert value < 2**128
        assert before <= value >> 80 <= after
    # the random part spreads over all 80 bits (a shift or mask error would pin some of them)
    low = [sum(_CROCKFORD.index(c) << (5 * i) for i, c in enumerate(reversed(rid[-16:]))) for rid in ids]
    seen = 0
    for v in low:
        seen |= v
    assert seen == 2**80 - 1


async def test_a_full_spool_answers_503_and_keeps_what_it_took(own_redis, make_settings, tmp_path: Path):
    """LAPOR_SPOOL_MAX_MB bounds the spool: past it the provider gets 503 + Retry-After (and keeps the
    message), the disk is not filled; what the spool took reaches Redis once it is back."""
    from tests.support.fixtures import GatewayUnderTest

    proc, client = own_redis
    gw = await GatewayUnderTest(make_settings(redis_url=proc.url, spool_max_mb=1)).start()
    try:
        proc.stop()
        auth = {"Authorization": "Bearer test-http-token"}
        statuses = []
        for i in range(40):  # ~80 KB each spooled (text and raw request): the 1 MB spool is full after ~13
            body = {"id": f"big-{i}", "text": "Jalan rusak parah. " * 2000, "reporter": {"id": "agency"}}
            status, _answer, headers = await gw.post("/channels/http/complaints", json=body, headers=auth)
            statuses.append(status)
            if status == 503:
                assert headers["Retry-After"] == "5"
        took = statuses.index(503)
        assert 5 <= took < 40 and set(statuses[:took]) == {202} and set(statuses[took:]) == {503}, statuses
        spool = gw.ctx.intake.spool
        assert spool.disk_bytes() <= 1024**2 and spool.pending_count() == took
        proc.start()
        for _ in range(200):
            if await client.xlen(keys.INBOUND_STREAM) >= took and not spool.has_pending():
                break
            await asyncio.sleep(0.05)
        assert await client.xlen(keys.INBOUND_STREAM) == took
    finally:
        await gw.stop()


def test_pending_count_reads_only_what_was_appended_since(tmp_path: Path):
    """/readyz and /metrics call it on every scrape: after a long outage the spool may hold gigabytes."""
    from gateway.spool import Spool, SpoolEntry

    spool = Spool(tmp_path / "spool")
    spool.append_sync([SpoolEntry(f"api:{i}", f"id{i}", '{"t":"x"}') for i in range(3)])
    spool.rotate()
    spool.append_sync([SpoolEntry("api:9", "id9", '{"t":"y"}')])
    assert spool.pending_count() == 4
    closed = spool.segments()[0]
    size = closed.stat().st_size
    closed.write_bytes(b"x" * size)  # same size, no newline: a re-read would now count 0 for it
    assert spool.pending_count() == 4, "a counted segment was read again"
    spool.append_sync([SpoolEntry("api:10", "id10", '{"t":"z"}')] * 2)
    assert spool.pending_count() == 6  # the appended tail is counted
    closed.unlink()
    assert spool.pending_count() == 3
