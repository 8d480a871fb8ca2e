"""LAPOR_REDIS_WAIT_REPLICAS: intake answers only when WAIT confirms the replicas, else it spools.

Real redis-server primary and replica on loopback; the replica starts only when the test says so.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import redis

from config.settings import SettingsError, load_settings, parse_hostports
from gateway import redis_clients
from gateway.intake import Intake
from normalizer.models import InboundMessage, Sender
from tests.support.redis_proc import RedisProc, free_port, redis_binary
from tests.support.sentinel import Node, SentinelDeployment


def _msgs(prefix: str, n: int) -> list[InboundMessage]:
    return [InboundMessage(channel="api", provider="http-api", kind="submission", native_id=f"{prefix}{i}",
                           sender=Sender(kind="api", id="agency"), text=f"Laporan nomor {i}") for i in range(n)]


@pytest.fixture
def primary(tmp_path: Path):
    proc = RedisProc(tmp_path / "primary").start()
    yield proc
    proc.stop()


def _replica(tmp_path: Path, primary: RedisProc) -> Node:
    port = free_port()
    assert redis_binary()
    return Node("replica", ["--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                            "--replicaof", "127.0.0.1", str(primary.port)], tmp_path / "replica", port)


def test_without_enough_replicas_the_batch_is_spooled_then_flushed_once(primary: RedisProc, tmp_path: Path):
    replica = _replica(tmp_path, primary)

    async def run() -> None:
        r = redis_clients.from_url(primary.url)
        intake = Intake(r, tmp_path / "spool", dedupe_ttl_s=3600, flush_interval_s=0.05, wait_replicas=1,
                        wait_timeout_ms=50)
        await intake.start()
        try:
            first = await intake.accept(_msgs("a", 20))
            assert [a.status for a in first] == ["spooled"] * 20, "no replica: not durable, spooled"
            assert intake.stats.not_replicated == 20
            assert intake.spool.has_pending()
            # while the spool holds older messages, later ones follow them there (order kept)
            later = await intake.accept(_msgs("b", 5))
            assert {a.status for a in later} == {"spooled"}
            await asyncio.sleep(0.3)
            assert intake.spool.has_pending(), "the flush must not drop a segment WAIT did not confirm"

            await asyncio.to_thread(replica.start)
            await asyncio.to_thread(SentinelDeployment.wait_replication, Node("p", [], tmp_path, primary.port),
                                    replica)
            for _ in range(100):
                if not intake.spool.has_pending() and not intake.spooling:
                    break
                await asyncio.sleep(0.05)
            assert not intake.spool.has_pending(), "flushed once a replica confirms"
            entries = await r.xrange("lapor:inbound")
            ids = [f[b"id"].decode() for _e, f in entries]
            assert len(ids) == len(set(ids)) == 25, "each message exactly once in the stream"
            assert sorted(ids) == sorted(a.record_id for a in first + later), "ids given to the provider"

            again = await intake.accept(_msgs("c", 3))
            assert [a.status for a in again] == ["new"] * 3, "a replica confirms: stored, not spooled"
            dup = await intake.accept(_msgs("a", 1))
            assert dup[0].status == "duplicate" and dup[0].record_id == first[0].record_id
        finally:
            await intake.close()
            await r.aclose()

    try:
        asyncio.run(run())
    finally:
        replica.stop()


def test_a_retried_intake_call_answers_new_not_duplicate(primary: RedisProc, tmp_path: Path):
    """The client retries a command whose reply was lost: the claim holding our own id is ours."""
    async def run() -> None:
        r = redis_clients.from_url(primary.url)
        intake = Intake(r, tmp_path / "spool", dedupe_ttl_s=3600)
        try:
            msg = _msgs("x", 1)
            first = await intake._store([_entry(m) for m in msg])
            again = await intake._store([_entry(m) for m in msg])
            assert first[0].status == again[0].status == "new"
            other = _msgs("x", 1)
            other[0].stamp("01ANOTHERID0000000000000000", msg[0].received_at)
            assert (await intake._store([_entry(other[0])]))[0].status == "duplicate"
            assert await r.xlen("lapor:inbound") == 1
        finally:
            await r.aclose()

    asyncio.run(run())


def _entry(m: InboundMessage):  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    from gateway.intake import new_record_id, serialize
    from gateway.spool import SpoolEntry
    if m.id is None:
        m.stamp(new_record_id(), datetime.now(UTC))
    assert m.id is not None
    return SpoolEntry(m.idempotency_key, m.id, serialize(m))


def test_sentinel_settings_are_validated(monkeypatch: pytest.MonkeyPatch):
    assert parse_hostports("a:1, [::1]:26379") == [("a", 1), ("::1", 26379)]
    monkeypatch.setenv("LAPOR_REDIS_SENTINELS", "127.0.0.1")
    with pytest.raises(SettingsError, match="LAPOR_REDIS_SENTINELS"):
        load_settings()
    monkeypatch.setenv("LAPOR_REDIS_SENTINELS", "127.0.0.1:26379,127.0.0.1:26380")
    s = load_settings()
    assert s.sentinel_addresses == [("127.0.0.1", 26379), ("127.0.0.1", 26380)]
    assert s.redis_sentinel_service == "mymaster"
    assert not s.embedded_redis, "Sentinel named: serve must not start its own Redis"
    monkeypatch.setenv("LAPOR_WORKERS", "lots")
    with pytest.raises(SettingsError, match="LAPOR_WORKERS"):
        load_settings()


def test_workers_auto_follows_the_cores(monkeypatch: pytest.MonkeyPatch):
    import os

    from config.settings import auto_workers
    monkeypatch.delenv("LAPOR_WORKERS", raising=False)
    s = load_settings()
    assert s.workers == "auto"
    cores = len(os.sched_getaffinity(0))
    assert s.worker_count == max(1, cores) == auto_workers(1)
    assert auto_workers(3) == max(1, cores - 2)
    monkeypatch.setenv("LAPOR_WORKERS", "3")
    assert load_settings().worker_count == 3


def test_one_factory_follows_sentinel_to_the_primary(tmp_path: Path):
    dep = SentinelDeployment(tmp_path / "sentinel").start()
    try:
        settings = load_settings(redis_sentinels=dep.sentinel_setting, redis_url="redis://127.0.0.1:1/0")
        sync = redis_clients.connect_sync(settings)
        sync.set("probe", "1")
        assert dep.nodes[0].client().get("probe") == b"1", "writes reach the primary Sentinel names"

        async def run() -> None:
            r = redis_clients.connect(settings)
            try:
                await r.set("probe2", "2")
                assert redis_clients.connect_core(settings, r) is r, "the core queue follows Sentinel"
            finally:
                await r.aclose()
        asyncio.run(run())
        assert dep.nodes[0].client().get("probe2") == b"2"
        sync.close()
    finally:
        dep.stop()


def test_unreachable_sentinels_raise_a_connection_error_quickly(tmp_path: Path):
    settings = load_settings(redis_sentinels=f"127.0.0.1:{free_port()}")
    with pytest.raises(redis.ConnectionError):
        redis_clients.connect_sync(settings).ping()
