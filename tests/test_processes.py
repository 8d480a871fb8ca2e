"""Real processes: the README's run command, kill -9 of workers and gateways, Redis stopped.

Each test runs `python -m gateway.cli …` (the installed console script's code) as a separate
process group against a redis-server of its own.
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import aiohttp
import pytest
import redis

from gateway.intake import Intake
from normalizer.models import InboundMessage, Sender
from tests.support.core import core_job_ids, wait_for_records
from tests.support.procs import Proc, cli, gateway_env, wait_ready
from tests.support.redis_proc import RedisProc, free_port

AUTH = {"Authorization": "Bearer test-http-token"}


@pytest.fixture
def own_redis(tmp_path: Path):
    proc = RedisProc(tmp_path / "redis", aof=True).start()
    yield proc
    proc.stop()


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not stat.exists() or stat.read_text().split(") ")[1][0] != "Z"


def test_run_command_without_configuration_serves_readyz_with_embedded_redis(tmp_path: Path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAPOR_")}
    env["LAPOR_HTTP_PORT"] = str(port)  # only to avoid colliding with another gateway on this machine
    work = tmp_path / "cwd"
    work.mkdir()
    gw = Proc(cli("serve"), env, tmp_path / "serve.log", cwd=work)
    try:
        wait_ready(port, 40, gw)
        redis_dir = work / "var" / "redis"
        assert (redis_dir / "appendonlydir").is_dir(), "AOF on, data in LAPOR_DATA_DIR (default ./var)"
        redis_pid = int((redis_dir / "redis.pid").read_text())
        assert pid_alive(redis_pid)
    finally:
        code = gw.terminate()
    assert code == 0, gw.tail()
    deadline = time.monotonic() + 10
    while pid_alive(redis_pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not pid_alive(redis_pid), "embedded redis-server stopped with the gateway"


async def _fill(url: str, tmp_path: Path, n: int) -> list[str]:
    r = redis.asyncio.Redis.from_url(url)
    it = Intake(r, tmp_path / "spool", dedupe_ttl_s=3600)
    await it.start()
    try:
        msgs = [InboundMessage(channel="api", provider="http-api", kind="submission", native_id=f"k{i}",
                               sender=Sender(kind="api", id="agency"), text=f"Laporan nomor {i}")
                for i in range(n)]
        ids: list[str] = []
        for start in range(0, n, 500):
            ids += [a.record_id for a in await it.accept(msgs[start:start + 500])]
        return ids
    finally:
        await it.close()
        await r.aclose()


def test_worker_killed_mid_run_loses_and_duplicates_nothing(own_redis: RedisProc, tmp_path: Path):
    ids = asyncio.run(_fill(own_redis.url, tmp_path, 2000))
    core = own_redis.client()
    env = gateway_env(own_redis.url, tmp_path / "data", free_port(), LAPOR_DISPATCH_BATCH="10",
                      LAPOR_ACK_ENABLED="false")
    worker = Proc(cli("worker"), env, tmp_path / "worker1.log")
    deadline = time.monotonic() + 30
    while core.llen("rq:queue:lapor-core") < 200 and time.monotonic() < deadline:
        time.sleep(0.005)
    worker.kill9()
    at_kill = core.llen("rq:queue:lapor-core")
    assert 0 < at_kill < 2000, f"kill happened outside the run ({at_kill} records)"
    pending = core.xpending("lapor:inbound", "dispatchers")["pending"]
    worker2 = Proc(cli("worker"), env, tmp_path / "worker2.log")
    try:
        records = wait_for_records(core, 2000, timeout=60)
    finally:
        worker2.terminate()
    job_ids = core_job_ids(core)
    assert len(job_ids) == 2000 and len(set(job_ids)) == 2000, "exactly 2,000, no duplicate ids"
    assert sorted(x["id"] for x in records) == sorted(ids)
    print(f"killed at {at_kill} records with {pending} pending entries; all 2000 delivered once")


async def _load(port: int, stop_after: float, kill, prefix: str, concurrency: int = 8
                ) -> tuple[dict[str, str], int]:
    """Post distinct complaints until ``stop_after`` s; call ``kill`` midway. Returns 2xx answers."""
    ok: dict[str, str] = {}
    failed = 0
    counter = iter(range(10**9))
    t_end = time.monotonic() + stop_after
    killed = False

    async def client(session: aiohttp.ClientSession) -> None:
        nonlocal failed, killed
        while time.monotonic() < t_end:
            i = next(counter)
            body = {"id": f"{prefix}{i}", "text": f"Jalan rusak {i}", "reporter": {"phone": "081234567890"}}
            try:
                async with session.post(f"http://127.0.0.1:{port}/channels/http/complaints", json=body,
                                        headers=AUTH, timeout=aiohttp.ClientTimeout(total=5)) as resp:
                    if resp.status in (200, 202):
                        ok[f"api:{prefix}{i}"] = (await resp.json())["id"]
                    else:
                        failed += 1
            except (TimeoutError, aiohttp.ClientError):
                failed += 1
                await asyncio.sleep(0.05)
            if not killed and len(ok) >= 300:
                killed = True
                await asyncio.to_thread(kill)

    async with aiohttp.ClientSession() as session:
        await asyncio.gather(*(client(session) for _ in range(concurrency)))
    return ok, failed


def test_gateway_killed_under_load_keeps_every_acknowledged_request(own_redis: RedisProc, tmp_path: Path):
    port = free_port()
    env = gateway_env(own_redis.url, tmp_path / "data", port, LAPOR_ACK_ENABLED="false")
    gw = Proc(cli("serve", "--workers", "1"), env, tmp_path / "serve.log")
    wait_ready(port, 30, gw)
    ok, failed = asyncio.run(_load(port, 4.0, gw.kill9, "kill"))
    assert len(ok) >= 300 and failed > 0, "the kill happened during the load"
    worker = Proc(cli("worker"), env, tmp_path / "worker.log")
    core = own_redis.client()
    try:
        records = wait_for_records(core, len(ok), timeout=60)
    finally:
        worker.terminate()
    by_key = {x["idempotency_key"]: x["id"] for x in records}
    missing = [k for k in ok if by_key.get(k) != ok[k]]
    assert not missing, f"{len(missing)} acknowledged requests not in the core queue"
    job_ids = core_job_ids(core)
    assert len(job_ids) == len(set(job_ids))


def test_redis_stopped_during_a_run_loses_nothing(own_redis: RedisProc, tmp_path: Path):
    port = free_port()
    env = gateway_env(own_redis.url, tmp_path / "data", port, LAPOR_ACK_ENABLED="false",
                      LAPOR_SPOOL_FLUSH_INTERVAL_S="0.2")
    gw = Proc(cli("serve", "--workers", "1"), env, tmp_path / "serve.log")
    wait_ready(port, 30, gw)

    def outage() -> None:
        own_redis.stop()
        time.sleep(1.5)
        own_redis.start()

    try:
        ok, failed = asyncio.run(_load(port, 5.0, outage, "out", concurrency=4))
        assert failed == 0, f"{failed} requests were refused during the outage"
        spool_dir = tmp_path / "data" / "spool"
        core = own_redis.client()
        records = wait_for_records(core, len(ok), timeout=60)
        by_key = {x["idempotency_key"]: x["id"] for x in records}
        assert set(by_key) == set(ok), "every accepted request is in the core queue"
        assert all(by_key[k] == v for k, v in ok.items())
        job_ids = core_job_ids(core)
        assert len(job_ids) == len(set(job_ids)) == len(ok)
        assert not list(spool_dir.glob("*.jsonl")), "spool drained"
        assert "intake.redis_unavailable" in gw.tail(10_000), "the outage really hit intake"
    finally:
        gw.terminate()
