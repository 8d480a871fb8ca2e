"""Redis down: the outbound API still answers 202 from its fsync'd spool, and every spooled
message is stored and sent exactly once, in order, when Redis returns."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import redis

from channels.sms.tests.conftest import eventually
from channels.sms.tests.test_outbound import FakeSmsApi, routes
from tests.support.redis_proc import RedisProc
from tests.twoway.support import AUTH, OUT_TOKEN, _async, core_worker, outbound, sms_record, status_jobs


async def test_spooled_while_redis_is_down_then_sent_once(make_gateway: Callable[..., Any], api: FakeSmsApi,
                                                          tmp_path: Path) -> None:
    proc = RedisProc(tmp_path / "redis", aof=True).start()  # AOF: the route survives the restart
    rsync = redis.Redis.from_url(proc.url)
    gw = await make_gateway(outbound_token=OUT_TOKEN, redis_url=proc.url, **routes(api))
    await gw.start_worker()
    try:
        async with core_worker(gw, redis_url=proc.url, socket_timeout=2):
            rid = await sms_record(gw, rsync)
            await asyncio.to_thread(proc.stop)
            answers = []
            for oid in ("down-1", "down-2", "down-1", "down-3"):
                doc = outbound(oid, rid, text=f"Pesan {oid} saat Redis mati.")
                answers.append(await gw.post("/outbound/messages", json=doc, headers=AUTH))
            assert [a[0] for a in answers] == [202, 202, 202, 202]
            assert all(orjson.loads(a[1])["status"] == "queued" for a in answers)
            spool = Path(gw.settings.data_dir) / "spool-outbound"
            assert sum(p.read_bytes().count(b"\n") for p in spool.glob("*.jsonl")) == 4
            await asyncio.sleep(0.5)
            assert not [q for q in api.kannel if "Redis mati" in q["text"]]
            await asyncio.to_thread(proc.start)

            async def all_sent() -> bool:
                return len([q for q in api.kannel if "Redis mati" in q["text"]]) >= 3

            await eventually(all_sent, timeout=30)
            await eventually(lambda: _async(not list(spool.glob("*.jsonl"))), timeout=10)
            await asyncio.sleep(1.0)
            texts = [q["text"] for q in api.kannel if "Redis mati" in q["text"]]
            assert texts == [f"Pesan down-{n} saat Redis mati." for n in (1, 2, 3)]  # once each, in order
            ids = [j for j, _ in status_jobs(rsync)]
            for oid in ("down-1", "down-2", "down-3"):
                assert ids.count(f"{oid}-queued") == 1 and ids.count(f"{oid}-sent") == 1
            status, body, _ = await gw.post("/outbound/messages", json=outbound("down-2", rid), headers=AUTH)
            assert status == 200 and orjson.loads(body)["status"] == "sent"
    finally:
        await gw.stop()
        rsync.close()
        proc.stop()


