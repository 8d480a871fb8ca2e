"""Held complaints survive kill -9 of the worker and of the gateway: exactly one record each.

Real processes (`gateway.cli serve --workers 0` for HTTP, `gateway.cli worker` for the dispatcher
and the senders), a redis-server of their own with AOF, the loopback fake Kannel ``sendsms``.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

import aiohttp
import pytest
import redis

from channels.core.reference import reference
from channels.sms.tests.test_kannel import get_url
from channels.sms.tests.test_outbound import FakeSmsApi, routes
from tests.support.core import core_job_ids, core_records
from tests.support.procs import Proc, cli, gateway_env, wait_ready
from tests.support.redis_proc import RedisProc, free_port

pytestmark = pytest.mark.slow

PLACELESS = "Jalan rusak parah banyak lubang besar membahayakan pengendara motor nomor {i}"
ANSWER = "Desa Sukamaju, Kec. Cibinong, Kab. Bogor"
N = 100


def number(i: int) -> str:
    return f"0812000{i:05d}"


async def send(session: aiohttp.ClientSession, port: int, i: int, body: str, tag: str) -> None:
    url = f"http://127.0.0.1:{port}" + get_url(kid=f"crash-{tag}-{i}", frm=number(i),
                                                  data=quote_plus(body).encode())
    for _ in range(100):  # the gateway may be restarting: retry until it stored the message
        try:
            async with session.get(url, timeout=aiohttp.ClientTimeout(total=5)) as resp:
                if resp.status in (200, 202):
                    return
        except (aiohttp.ClientError, TimeoutError):
            pass
        await asyncio.sleep(0.2)
    raise AssertionError("the gateway never stored the message")


async def until(pred: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not await asyncio.to_thread(pred):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out: {what}")
        await asyncio.sleep(0.1)


@pytest.fixture
def own_redis(tmp_path: Path):
    proc = RedisProc(tmp_path / "redis", aof=True).start()
    yield proc
    proc.stop()


async def test_kill9_of_worker_and_gateway_while_held_gives_exactly_one_record_each(
        own_redis: RedisProc, tmp_path: Path) -> None:
    api = await FakeSmsApi().start()
    port = free_port()
    env = gateway_env(own_redis.url, tmp_path / "data", port, LAPOR_COMPLETENESS_WAIT_S="40",
                      LAPOR_ACK_BACKOFF_S="0.05",
                      **{f"LAPOR_{k.upper()}": str(v) for k, v in routes(api).items()})
    core: redis.Redis = own_redis.client()
    procs: list[Proc] = []

    def start(kind: str, n: int, **extra: str) -> Proc:
        p = Proc(cli("serve", "--workers", "0") if kind == "gw" else cli("worker"), {**env, **extra},
                 tmp_path / f"{kind}{n}.log")
        procs.append(p)
        return p

    try:
        gw, worker = start("gw", 1), start("worker", 1)
        wait_ready(port, 40, gw)
        async with aiohttp.ClientSession() as session:
            await asyncio.gather(*(send(session, port, i, PLACELESS.format(i=i), "c") for i in range(N)))
            await until(lambda: core.zcard("lapor:held:due") == N, 60, "every complaint held")
            held = {x.decode() for x in core.zrange("lapor:held:due", 0, -1)}
            await until(lambda: sum("Di mana" in q["text"] for q in api.kannel) >= N, 60, "the questions")
            assert core.llen("rq:queue:lapor-core") == 0
            # kill -9 both while held; a new gateway takes the answers, the worker is down
            worker.kill9()
            gw.kill9()
            gw = start("gw", 2)
            wait_ready(port, 40, gw)
            half = N // 2
            await asyncio.gather(*(send(session, port, i, ANSWER, "a") for i in range(half)))
            # a new worker starts on the answers and is killed -9 in the middle of them
            worker = start("worker", 2, LAPOR_DISPATCH_BATCH="1")  # one commit per answer: a longer run
            await until(lambda: core.llen("rq:queue:lapor-core") >= 5, 60, "the first merged records")
            worker.kill9()
            gw.kill9()
            at_kill = core.llen("rq:queue:lapor-core")
            gw, worker = start("gw", 3), start("worker", 3)
            wait_ready(port, 40, gw)
            await until(lambda: core.llen("rq:queue:lapor-core") >= half, 60, "every answered record")
            # the other half never answers: released as incomplete after the wait
            await until(lambda: core.llen("rq:queue:lapor-core") >= N, 90, "the unanswered ones")
            await asyncio.sleep(2.0)
        records = core_records(core)
        ids = core_job_ids(core)
        assert len(ids) == N and len(set(ids)) == N, "exactly one record per complaint"
        assert {r["id"] for r in records} == held
        by_number = {r["reporter"]["msisdn"]: r for r in records}
        for i in range(N):
            rec = by_number[f"+62{number(i)[1:]}"]
            if i < half:
                assert rec["completeness"]["answered"] is True and rec["body"].endswith(ANSWER)
                assert rec["location"]["regency"] == "Kabupaten Bogor" and "incomplete" not in rec["flags"]
            else:
                assert rec["completeness"]["answered"] is False and "incomplete" in rec["flags"]
        assert core.zcard("lapor:held:due") == 0
        questions = [q for q in api.kannel if "Di mana" in q["text"]]
        assert {reference(r) for r in held} <= {q["text"].split()[2] for q in questions}
        print(f"worker killed after {at_kill} of {half} answered records; {N} records, each once")
    finally:
        for p in procs:
            p.terminate()
        await api.stop()
