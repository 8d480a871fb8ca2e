"""Messenger end to end: the core's message goes to the citizen's PSID through the fake Send
API; signed ``delivery`` (mids) and ``read`` (watermark) webhooks become statuses in order on
the core's status queue; outside 24 h the message fails ``window_closed``, or goes with the
HUMAN_AGENT tag when that is enabled; a forged webhook records nothing."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import redis

from channels.meta.inbound import PATH, sign
from channels.meta.tests.fake_graph import FakeGraph
from channels.meta.tests.test_flow import PAGE, PSID, dm, now_ms, post
from channels.sms.tests.conftest import eventually
from dispatcher.outbound_worker import CoreMessageWorker
from tests.support.core import wait_for_records
from tests.support.fixtures import TOKENS
from tests.twoway import support
from tests.twoway.support import AUTH, OUT_TOKEN, _async, outbound, status_ids, status_jobs


@pytest.fixture
async def graph() -> AsyncIterator[FakeGraph]:
    g = await FakeGraph(TOKENS["meta_page_token"], PAGE).start()
    yield g
    await g.stop()


def receipt(kind: str, payload: dict[str, Any]) -> dict[str, Any]:
    return {"object": "page", "entry": [{"id": PAGE, "time": now_ms(), "messaging": [
        {"sender": {"id": PSID}, "recipient": {"id": PAGE}, "timestamp": now_ms(), kind: payload}]}]}


def core_worker(gw: Any, **overrides: Any) -> contextlib.AbstractAsyncContextManager[CoreMessageWorker]:
    return support.core_worker(gw, "meta-core", close_senders=True, settings=gw.settings.model_copy(update=overrides))


async def test_messenger_statuses_and_window(make_gateway: Callable[..., Any], graph: FakeGraph,
                                             rsync: redis.Redis) -> None:
    gw = await make_gateway(outbound_token=OUT_TOKEN, meta_graph_url=graph.url, meta_page_id=PAGE)
    await gw.start_worker()
    await post(gw, dm("m_citizen_1", "Jalan berlubang di depan pasar Kab Bogor"))
    rid = str((await asyncio.to_thread(wait_for_records, rsync, 1))[-1]["id"])
    await graph.wait_calls(1)  # the acknowledgement
    async with core_worker(gw):
        assert (await gw.post("/outbound/messages", json=outbound("fb-1", rid), headers=AUTH))[0] == 202
        await eventually(lambda: _async(status_ids(rsync, "fb-1-") == ["fb-1-queued", "fb-1-sent"]))
        call = graph.calls[-1]["body"]
        assert call["recipient"] == {"id": PSID} and call["messaging_type"] == "RESPONSE"
        assert "Dinas PU" in call["message"]["text"]
        mid = dict(status_jobs(rsync))["fb-1-sent"]["provider_message_ids"][0]
        # a forged receipt: refused, nothing recorded
        body = json.dumps(receipt("delivery", {"mids": [mid], "watermark": now_ms()})).encode()
        status, _, _ = await gw.post(PATH, data=body, headers={"Content-Type": "application/json",
                                                               "X-Hub-Signature-256": sign(body, "wrong")})
        assert status == 403
        await asyncio.sleep(0.3)
        assert status_ids(rsync, "fb-1-") == ["fb-1-queued", "fb-1-sent"]
        await post(gw, receipt("delivery", {"mids": [mid], "watermark": now_ms()}))
        await eventually(lambda: _async(len(status_ids(rsync, "fb-1-")) == 3))
        await post(gw, receipt("read", {"watermark": now_ms() + 1000}))
        await eventually(lambda: _async(status_ids(rsync, "fb-1-") == ["fb-1-queued", "fb-1-sent", "fb-1-delivered",
                                                                 "fb-1-read"]))
        # the acknowledgement was read too (sent before the watermark, to the same citizen)
        assert f"ack-{rid}-read" in [j for j, _ in status_jobs(rsync, own=True)]
        # two days after the citizen's last message: the window is closed
        rsync.set(f"lapor:lastseen:facebook:{PSID}", time.time() - 2 * 86400)
        n = len(graph.calls)
        assert (await gw.post("/outbound/messages", json=outbound("fb-late", rid), headers=AUTH))[0] == 202
        await eventually(lambda: _async(status_ids(rsync, "fb-late-") == ["fb-late-queued", "fb-late-failed"]))
        assert dict(status_jobs(rsync))["fb-late-failed"]["error"]["code"] == "window_closed"
        assert len(graph.calls) == n
    async with core_worker(gw, meta_human_agent=True):
        assert (await gw.post("/outbound/messages", json=outbound("fb-agent", rid), headers=AUTH))[0] == 202
        await eventually(lambda: _async(status_ids(rsync, "fb-agent-") == ["fb-agent-queued", "fb-agent-sent"]))
        call = graph.calls[-1]["body"]
        assert call["messaging_type"] == "MESSAGE_TAG" and call["tag"] == "HUMAN_AGENT"
        assert call["recipient"] == {"id": PSID}
