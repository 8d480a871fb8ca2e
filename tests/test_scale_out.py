"""Many processes on one Redis: two ``serve`` (HTTP + services) and two ``worker`` processes, one
of each killed with SIGKILL under load. Every request answered 2xx reaches the core queue exactly
once, and the SMPP bind is held by exactly one process, taken over within its lease when that
process dies."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import aiohttp
import pytest

from bench.complaints import api_body
from channels.sms.smpp import BIND_LEASE_KEY, BIND_LEASE_MS
from channels.sms.tests.smsc import Smsc
from tests.support.core import core_job_ids, wait_for_records
from tests.support.procs import Proc, cli, gateway_env, wait_ready
from tests.support.redis_proc import RedisProc, free_port

AUTH = {"Authorization": "Bearer test-http-token", "Content-Type": "application/json"}


@pytest.mark.slow
async def test_two_serve_and_two_workers_one_of_each_killed(tmp_path: Path) -> None:
    rp = RedisProc(tmp_path / "redis", aof=True).start()
    smsc = await Smsc().start()
    r = rp.client()
    ports = [free_port(), free_port()]
    smpp = {"LAPOR_SMPP_HOST": "127.0.0.1", "LAPOR_SMPP_PORT": str(smsc.port), "LAPOR_SMPP_SYSTEM_ID": "lapor",
            "LAPOR_SMPP_PASSWORD": "secret", "LAPOR_ACK_ENABLED": "false", "LAPOR_LOG_LEVEL": "warning"}
    serves = [Proc(cli("serve", "--workers", "0"), gateway_env(rp.url, tmp_path / f"data{i}", port, **smpp),
                   tmp_path / f"serve{i}.log") for i, port in enumerate(ports)]
    workers = [Proc(cli("worker"), gateway_env(rp.url, tmp_path / f"wdata{i}", free_port(), **smpp),
                    tmp_path / f"worker{i}.log") for i in range(2)]
    max_sessions = 0
    ok: dict[str, str] = {}
    try:
        for s, port in zip(serves, ports, strict=True):
            wait_ready(port, 60, s)
        await smsc.wait_bound(30)
        holder = int(r.get(BIND_LEASE_KEY).decode().split("-")[0])
        victim = next(s for s in serves if s.pid == holder)  # kill the process that holds the bind
        survivor_port = ports[1 - serves.index(victim)]
        killed_at = 0.0
        counter = iter(range(10**9))
        t_end = time.monotonic() + 10

        async def client(session: aiohttp.ClientSession, k: int) -> None:
            nonlocal killed_at
            while time.monotonic() < t_end:
                i = next(counter)
                port = ports[k % 2] if not killed_at else survivor_port
                try:
                    async with session.post(f"http://127.0.0.1:{port}/channels/http/complaints",
                                            data=api_body("so", i), headers=AUTH,
                                            timeout=aiohttp.ClientTimeout(total=5)) as resp:
                        if resp.status in (200, 202):
                            ok[f"api:so-{i}"] = (await resp.json())["id"]
                except (TimeoutError, aiohttp.ClientError):
                    await asyncio.sleep(0.05)
                if not killed_at and len(ok) >= 400:
                    killed_at = time.monotonic()
                    await asyncio.to_thread(victim.kill9)
                    await asyncio.to_thread(workers[0].kill9)

        async def watch_sessions() -> None:
            nonlocal max_sessions
            while time.monotonic() < t_end + 30:
                max_sessions = max(max_sessions, len(smsc._tasks))
                await asyncio.sleep(0.02)

        watcher = asyncio.create_task(watch_sessions())
        async with aiohttp.ClientSession() as session:
            await asyncio.gather(*(client(session, k) for k in range(8)))
        assert killed_at, "the kill happened during the load"
        # the survivor binds once the dead holder's lease lapses
        await smsc.wait_bound(BIND_LEASE_MS / 1000 + 15)
        takeover_s = time.monotonic() - killed_at
        new_holder = int(r.get(BIND_LEASE_KEY).decode().split("-")[0])
        assert new_holder != holder and new_holder in [s.pid for s in serves]
        records = wait_for_records(r, len(ok), timeout=120)
        watcher.cancel()
        by_key = {x["idempotency_key"]: x["id"] for x in records}
        missing = [k for k in ok if by_key.get(k) != ok[k]]
        assert not missing, f"{len(missing)} acknowledged requests not in the core queue"
        job_ids = core_job_ids(r)
        assert len(job_ids) == len(set(job_ids)), "a record reached the core twice"
        assert max_sessions == 1, f"{max_sessions} SMPP sessions at once"
        assert takeover_s < BIND_LEASE_MS / 1000 + 10
        print(f"{len(ok)} acknowledged, all in the core once; SMPP bind taken over after {takeover_s:.1f} s")
    finally:
        for p in [*serves, *workers]:
            p.terminate()
        await smsc.stop()
        rp.stop()
