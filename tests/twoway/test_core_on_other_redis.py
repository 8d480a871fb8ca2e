"""Core queue on another Redis (LAPOR_CORE_REDIS_URL): statuses go through the outbox to the
core's Redis, each exactly once, even when the outbox is replayed."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import redis
import redis.asyncio as aioredis

from channels.sms.tests.conftest import eventually
from channels.sms.tests.test_outbound import FakeSmsApi, routes
from dispatcher import outbound_keys as ok
from tests.support.redis_proc import RedisProc
from tests.twoway.support import AUTH, OUT_TOKEN, _async, core_worker, outbound, sms_record, status_jobs


def far(r: redis.Redis) -> list[str]:
    return [j for j, _ in status_jobs(r)]


async def test_statuses_reach_the_core_redis_once(make_gateway: Callable[..., Any], api: FakeSmsApi,
                                                  rsync: redis.Redis, tmp_path: Path) -> None:
    core = RedisProc(tmp_path / "core").start()
    core_sync = redis.Redis.from_url(core.url)
    gw = await make_gateway(outbound_token=OUT_TOKEN, core_redis_url=core.url, **routes(api))
    await gw.start_worker()
    core_r = aioredis.Redis.from_url(core.url)
    try:
        async with core_worker(gw, "core-test", core_redis=core_r) as cw:
            rid = await sms_record(gw, rsync)  # the test harness's dispatcher keeps complaints on the gateway Redis
            assert (await gw.post("/outbound/messages", json=outbound("far-1", rid), headers=AUTH))[0] == 202
            await eventually(lambda: _async(len(far(core_sync)) >= 2))
            assert far(core_sync) == ["far-1-queued", "far-1-sent"]
            assert rsync.llen("rq:queue:lapor-core-status") == 0
            await eventually(lambda: _async(rsync.llen(ok.STATUS_OUTBOX) == 0))
            # a replayed outbox (crash after the core commit, before the trim) enqueues nothing new
            sent = next(d for j, d in status_jobs(core_sync) if j == "far-1-sent")
            rsync.rpush(ok.STATUS_OUTBOX, orjson.dumps(sent))
            assert await cw.engine.flush_outbox(core_r) == 0
            assert far(core_sync) == ["far-1-queued", "far-1-sent"]
            # the acknowledgement's own status went the same way
            assert f"ack-{rid}-sent" in [j for j, _ in status_jobs(core_sync, own=True)]
    finally:
        await core_r.aclose()
        core_sync.close()
        core.stop()
