"""kill -9 of real gateway and worker processes around the outbound send (docs/two-way.md,
"At most once"): no message lost after its 202; none sent twice once the provider's acceptance was
recorded; a message whose provider call was cut by the kill is sent again on its private route
(at least once) and its statuses still reach the core once each."""

from __future__ import annotations

import asyncio
import time
import urllib.request
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import redis
from aiohttp import web

from channels.sms.tests.test_kannel import get_url
from channels.sms.tests.test_outbound import FakeSmsApi
from tests.support.core import wait_for_records
from tests.support.procs import Proc, cli, gateway_env, wait_ready
from tests.support.redis_proc import RedisProc, free_port
from tests.twoway.support import AUTH, OUT_TOKEN, outbound, status_jobs

pytestmark = pytest.mark.timeout(240)  # ~20 s each: real processes, run in CI too


class HoldingSms(FakeSmsApi):
    """Kannel that accepts every message (records it) but holds its answer for texts with ``hold``."""

    def __init__(self) -> None:
        super().__init__()
        self.hold = "\x00"
        self.release = asyncio.Event()

    async def sendsms(self, request: web.Request) -> web.Response:
        if self.hold in request.query.get("text", ""):
            self.kannel.append(dict(request.query))  # the provider has it: accepted on its side
            await self.release.wait()
            return web.Response(status=202, text="0: Accepted for delivery")
        return await super().sendsms(request)


@pytest.fixture
def own_redis(tmp_path: Path) -> Any:
    proc = RedisProc(tmp_path / "redis", aof=True).start()
    yield proc
    proc.stop()


def env_for(redis_url: str, tmp_path: Path, port: int, sms: FakeSmsApi) -> dict[str, str]:
    return gateway_env(redis_url, tmp_path / "data", port, LAPOR_OUTBOUND_TOKEN=OUT_TOKEN,
                       LAPOR_KANNEL_SENDSMS_URL=sms.url + "/cgi-bin/sendsms", LAPOR_KANNEL_USERNAME="lapor",
                       LAPOR_KANNEL_PASSWORD="kpass", LAPOR_ACK_ENABLED="false", LAPOR_CLAIM_IDLE_MS="1000",
                       LAPOR_TWITTER_POLL="false",  # nothing leaves loopback
                       LAPOR_OUTBOUND_PER_CITIZEN_PER_HOUR="1000")  # the cap is tested elsewhere


async def records(port: int, core: redis.Redis, n: int) -> list[str]:
    """``n`` SMS complaints through the running gateway, dispatched (routes written); their ids."""
    async with aiohttp.ClientSession() as s:
        for i in range(n):
            url = f"http://127.0.0.1:{port}" + get_url(kid=f"crash-{i}", frm=f"08123456{i:04d}",
                                                        data=b"Jalan+rusak+di+Kab+Bogor")
            async with s.get(url) as resp:
                assert resp.status in (200, 202)
    recs = await asyncio.to_thread(wait_for_records, core, n, 60.0)
    return [str(r["id"]) for r in recs]


def wait_alive(port: int, proc: Proc, timeout: float = 60) -> None:
    """/healthz (a gateway without workers is alive but not ready)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.popen.poll() is None, proc.tail()
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise AssertionError(proc.tail())


def texts(sms: FakeSmsApi, marker: str) -> list[str]:
    return [q["text"] for q in sms.kannel if marker in q["text"]]


async def wait(cond: Any, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.1)


def serve(own_redis: RedisProc, tmp_path: Path, sms: FakeSmsApi,
          workers: int) -> tuple[redis.Redis, int, dict[str, str], Proc]:
    """The core's Redis client, a free port, the environment and ``serve`` started on them."""
    port = free_port()
    env = env_for(own_redis.url, tmp_path, port, sms)
    gw = Proc(cli("serve", "--workers", str(workers)), env, tmp_path / "serve.log")
    return own_redis.client(), port, env, gw


async def test_gateway_killed_right_after_its_202s_loses_nothing(own_redis: RedisProc, tmp_path: Path) -> None:
    sms = await FakeSmsApi().start()
    core, port, env, gw = serve(own_redis, tmp_path, sms, workers=1)
    worker: Proc | None = None
    try:
        await asyncio.to_thread(wait_ready, port, 60, gw)
        rids = await records(port, core, 4)
        # senders stopped: what the gateway accepted must survive its kill in Redis alone
        gw.terminate()
        gw = Proc(cli("serve", "--workers", "0"), env, tmp_path / "serve2.log")
        await asyncio.to_thread(wait_alive, port, gw)
        accepted: list[str] = []
        async with aiohttp.ClientSession() as s:
            async def post(i: int) -> None:
                doc = outbound(f"gk-{i}", rids[i % len(rids)], text=f"Kabar gk-{i}# laporan Anda.")
                try:
                    async with s.post(f"http://127.0.0.1:{port}/outbound/messages", json=doc, headers=AUTH) as r:
                        if r.status == 202:
                            accepted.append(doc["id"])
                except aiohttp.ClientError:
                    pass

            await asyncio.gather(*(post(i) for i in range(150)))
            gw.kill9()  # right after the last 202
            await asyncio.gather(*(post(i) for i in range(150, 200)))  # refused: the gateway is gone
        assert len(accepted) == 150
        worker = Proc(cli("worker"), env, tmp_path / "worker.log")
        try:
            await wait(lambda: all(core.hget(f"lapor:out:{oid}", "status") == b"sent" for oid in accepted))
        except AssertionError:
            states = {core.hget(f"lapor:out:{oid}", "status") for oid in accepted}
            raise AssertionError(f"{states} {len(sms.kannel)}\n{worker.tail(30)}") from None
        for oid in accepted:
            assert len(texts(sms, f"Kabar {oid}#")) == 1, oid  # each exactly once
        jobs = [j for j, _ in status_jobs(core)]
        assert len(jobs) == len(set(jobs)) == 2 * len(accepted)
    finally:
        for p in (gw, worker):
            if p is not None:
                p.terminate()
        await sms.stop()


async def test_worker_killed_around_the_send(own_redis: RedisProc, tmp_path: Path) -> None:
    sms = await HoldingSms().start()
    core, port, env, gw = serve(own_redis, tmp_path, sms, workers=0)
    w1 = Proc(cli("worker"), env, tmp_path / "worker1.log")
    w2: Proc | None = None
    try:
        await asyncio.to_thread(wait_ready, port, 60, gw)
        rids = await records(port, core, 2)
        async with aiohttp.ClientSession() as s:
            async def post(oid: str, rid: str, text: str) -> None:
                async with s.post(f"http://127.0.0.1:{port}/outbound/messages", headers=AUTH,
                                  json=outbound(oid, rid, text=text)) as r:
                    assert r.status == 202

            # accepted and recorded: a later kill must never send these again
            for i in range(10):
                await post(f"wk-{i}", rids[0], f"Kabar wk-{i}# laporan Anda.")
            await wait(lambda: all(core.hget(f"lapor:out:wk-{i}", "status") == b"sent" for i in range(10)))
            # accepted by the provider, its answer not yet back: the worker dies in the window
            sms.hold = "TAHAN"
            await post("wk-held", rids[1], "Kabar TAHAN laporan Anda.")
            await wait(lambda: len(texts(sms, "TAHAN")) == 1)
            assert core.hget("lapor:out:wk-held", "sending") == b"0"  # the marker was written first
            w1.kill9()
        sms.release.set()
        w2 = Proc(cli("worker"), env, tmp_path / "worker2.log")
        await wait(lambda: core.hget("lapor:out:wk-held", "status") == b"sent")
        await asyncio.sleep(1.5)  # time for any wrong re-send to show
        for i in range(10):
            assert len(texts(sms, f"Kabar wk-{i}#")) == 1, f"wk-{i} sent twice"
        # private SMS route, no idempotency key at Kannel: sent again (at least once), reported once
        assert len(texts(sms, "TAHAN")) == 2
        held = [j for j, _ in status_jobs(core) if j.startswith("wk-held")]
        assert held == ["wk-held-queued", "wk-held-sent"]
        assert core.hget("lapor:out:wk-held", "sending") is None
    finally:
        for p in (gw, w1, w2):
            if p is not None:
                p.terminate()
        sms.release.set()
        await sms.stop()
