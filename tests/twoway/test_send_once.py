"""The ``sending`` marker: what a worker does with a message whose provider call may have
happened before a crash (dispatcher/send_once.py). The crash state is written as a killed worker
leaves it; tests/twoway/test_outbound_crash.py kills real processes."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import redis
import redis.asyncio as aioredis

from channels import registry
from channels.sms.tests.conftest import eventually
from channels.sms.tests.test_outbound import FakeSmsApi
from dispatcher.outbound_worker import CoreMessageWorker
from tests.twoway.support import AUTH, _async, outbound, sms_record, status_jobs


async def crash_state(gw: Any, rsync: redis.Redis, doc: dict[str, Any]) -> None:
    """The message read by a worker that wrote ``sending=0`` and died before recording the result."""
    gw.core_worker.stop()
    await asyncio.sleep(0.5)
    status, _, _ = await gw.post("/outbound/messages", json=doc, headers=AUTH)
    assert status == 202
    rsync.hset(f"lapor:out:{doc['id']}", "sending", 0)


async def run_worker(gw: Any) -> tuple[CoreMessageWorker, asyncio.Task[None], aioredis.Redis]:
    r = aioredis.Redis.from_url(gw.settings.redis_url)
    cw = CoreMessageWorker(r, gw.settings, registry.senders(gw.settings), "test-after-crash")
    return cw, asyncio.create_task(cw.run()), r


async def stop(cw: CoreMessageWorker, task: asyncio.Task[None], r: aioredis.Redis) -> None:
    cw.stop()
    with contextlib.suppress(Exception):
        await asyncio.wait_for(task, 5)
    await r.aclose()


async def test_private_route_is_sent_again_and_reported_once(twoway: Any, api: FakeSmsApi, rsync: redis.Redis) -> None:
    rid = await sms_record(twoway, rsync)
    await eventually(lambda: _async(len(api.kannel) >= 1))
    await crash_state(twoway, rsync, outbound("once-priv", rid, text="Kabar laporan Anda."))
    worker = await run_worker(twoway)
    try:
        await eventually(lambda: _async(rsync.hget("lapor:out:once-priv", "status") == b"sent"))
    finally:
        await stop(*worker)
    assert len([q for q in api.kannel if "Kabar laporan" in q["text"]]) == 1
    assert rsync.hget("lapor:out:once-priv", "sending") is None  # cleared with the result
    assert [j for j, _ in status_jobs(rsync) if j.startswith("once-priv")] == ["once-priv-queued", "once-priv-sent"]


async def test_public_route_is_held_for_an_admin_not_posted_twice(twoway: Any, api: FakeSmsApi,
                                                                  rsync: redis.Redis) -> None:
    rid = await sms_record(twoway, rsync)
    await eventually(lambda: _async(len(api.kannel) >= 1))
    before = len(api.kannel)
    reply_to = {"channel": "sms", "address": "+6281234567890", "thread": None, "private": False}
    await crash_state(twoway, rsync, outbound("once-pub", rid, text="Jawaban dinas.", reply_to=reply_to))
    worker = await run_worker(twoway)
    try:
        await eventually(lambda: _async(rsync.hget("lapor:out:once-pub", "status") == b"failed"))
    finally:
        await stop(*worker)
    assert len(api.kannel) == before  # nothing posted again
    (doc,) = [d for j, d in status_jobs(rsync) if j == "once-pub-failed"]
    assert doc["error"]["code"] == "provider_error" and doc["error"]["detail"].startswith("unknown_outcome")
    assert [f for _e, f in rsync.xrange("lapor:outbound:dead") if f.get(b"o") == b"once-pub"]


async def test_a_failed_call_clears_the_marker(twoway: Any, api: FakeSmsApi, rsync: redis.Redis) -> None:
    """A provider error is an ordinary retry, not an unknown outcome (the public route is retried)."""
    rid = await sms_record(twoway, rsync)
    await eventually(lambda: _async(len(api.kannel) >= 1))
    api.kannel_answers = [(503, "busy")]
    reply_to = {"channel": "sms", "address": "+6281234567890", "thread": None, "private": False}
    status, _, _ = await twoway.post("/outbound/messages", headers=AUTH,
                                     json=outbound("once-retry", rid, text="Dicoba lagi.", reply_to=reply_to))
    assert status == 202
    await eventually(lambda: _async(rsync.hget("lapor:out:once-retry", "status") == b"sent"), timeout=20)
    assert rsync.hget("lapor:out:once-retry", "sending") is None
    assert int(rsync.hget("lapor:out:once-retry", "attempts") or 0) == 1
