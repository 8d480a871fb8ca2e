"""Both ways through the real workers: statuses of what we sent reach the core's status queue;
the core's messages go as text inside the 24-hour window and as the template outside it;
a throttled send is retried later; a closed window without template is ``window_closed``."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from channels.whatsapp.inbound import PATH, sign
from channels.whatsapp.tests.fake_graph import FakeCloudAPI
from channels.whatsapp.tests.test_flow import RINA, notification, post
from dispatcher import outbound_keys as ok
from tests.support.core import wait_for_records
from tests.support.fixtures import TOKENS
from tests.twoway import support
from tests.twoway.support import AUTH, OUT_TOKEN, status_jobs

PHONE_ID = TOKENS["whatsapp_phone_number_id"]
TEXT = "Laporan Anda sudah diteruskan ke Dinas PU.\nTerima kasih."


def outbound(oid: str, record_id: str) -> dict[str, Any]:
    return support.outbound(oid, record_id, text=TEXT)


@pytest.fixture
async def make_wa(make_gateway: Callable[..., Any], api: FakeCloudAPI) -> AsyncIterator[Callable[..., Any]]:
    """A gateway with the outbound API, its dispatcher, the ack worker and the core-message worker."""
    async with contextlib.AsyncExitStack() as workers:
        async def make(**overrides: Any) -> Any:
            gw = await make_gateway(outbound_token=OUT_TOKEN, whatsapp_graph_url=api.url, **overrides)
            await gw.start_worker()
            await workers.enter_async_context(support.core_worker(gw, close_senders=True))
            return gw

        yield make


def statuses_notification(*items: tuple[str, str]) -> dict[str, Any]:
    ts = str(int(time.time()))
    return {"object": "whatsapp_business_account", "entry": [{"id": "102290129340398", "changes": [
        {"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "6281117081708", "phone_number_id": PHONE_ID},
            "statuses": [{"id": wamid, "status": st, "timestamp": ts, "recipient_id": RINA}
                         for wamid, st in items]}}]}]}


async def wait_jobs(rsync: Any, n: int, *, own: bool = False, timeout: float = 15.0) -> list[tuple[str, Any]]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        jobs = status_jobs(rsync, own=own)
        if len(jobs) >= n:
            return jobs
        await asyncio.sleep(0.05)
    return status_jobs(rsync, own=own)


async def complaint(gw: Any, api: FakeCloudAPI, rsync: Any, wamid: str = "wamid.TW0001") -> str:
    await post(gw, notification(wamid))
    recs = await asyncio.to_thread(wait_for_records, rsync, 1, 15.0)
    await api.wait_calls(1)  # the acknowledgement
    return str(recs[-1]["id"])


async def test_status_notification_becomes_a_status_job_never_a_record(make_wa, api, rsync):
    gw = await make_wa()
    rid = await complaint(gw, api, rsync)
    ack_wamid = "wamid.SENT0001"
    await wait_jobs(rsync, 1, own=True)  # the ack's "sent", reported by the ack worker
    body = json.dumps(statuses_notification((ack_wamid, "delivered"), (ack_wamid, "read"),
                                            ("wamid.NOTOURS", "delivered"))).encode()
    headers = {"Content-Type": "application/json", "X-Hub-Signature-256": sign(body, TOKENS["whatsapp_app_secret"])}
    for _ in range(2):  # Meta redelivers: each status still reaches the core once
        status, _resp, _h = await gw.post(PATH, data=body, headers=headers)
        assert status == 200
    jobs = await wait_jobs(rsync, 3, own=True)
    assert sorted(j for j, _d in jobs) == sorted([f"ack-{rid}-sent", f"ack-{rid}-delivered", f"ack-{rid}-read"])
    assert len(await asyncio.to_thread(wait_for_records, rsync, 1, 0.1)) == 1  # statuses are never records
    await gw.ctx.channel_log.flush()
    (row,) = await gw.ctx.channel_log.recent("whatsapp", limit=1)
    assert row["status_unknown"] == 1 and row["status_delivered"] == 2


async def test_core_message_text_in_the_window_template_outside(make_wa, api, rsync, r):
    gw = await make_wa(whatsapp_template="lapor_kabar")
    rid = await complaint(gw, api, rsync)
    status, _b, _h = await gw.post("/outbound/messages", json=outbound("msg-open", rid), headers=AUTH)
    assert status == 202
    calls = await api.wait_calls(2)
    assert calls[1]["type"] == "text" and calls[1]["text"]["body"].startswith("Laporan Anda")
    await r.set(ok.last_seen("whatsapp", RINA), int(time.time()) - 25 * 3600)  # the citizen went quiet
    status, _b, _h = await gw.post("/outbound/messages", json=outbound("msg-closed", rid), headers=AUTH)
    assert status == 202
    calls = await api.wait_calls(3)
    assert calls[2]["type"] == "template" and calls[2]["template"]["name"] == "lapor_kabar"
    assert calls[2]["template"]["components"][0]["parameters"][1]["text"] == (
        "Laporan Anda sudah diteruskan ke Dinas PU. Terima kasih.")
    jobs = dict(await wait_jobs(rsync, 4))
    assert set(jobs) == {"msg-open-queued", "msg-open-sent", "msg-closed-queued", "msg-closed-sent"}
    assert api.rejected == []


async def test_window_closed_without_template_fails_window_closed(make_wa, api, rsync, r):
    gw = await make_wa()
    rid = await complaint(gw, api, rsync)
    await r.set(ok.last_seen("whatsapp", RINA), int(time.time()) - 25 * 3600)
    status, _b, _h = await gw.post("/outbound/messages", json=outbound("msg-late", rid), headers=AUTH)
    assert status == 202
    jobs = dict(await wait_jobs(rsync, 2))
    assert jobs["msg-late-failed"]["error"]["code"] == "window_closed"
    assert len(api.calls) == 1  # only the acknowledgement went


async def test_131047_from_the_api_fails_window_closed_without_template(make_wa, api, rsync):
    gw = await make_wa()
    rid = await complaint(gw, api, rsync)
    api.closed.add(RINA)  # the API knows better than our last-seen
    status, _b, _h = await gw.post("/outbound/messages", json=outbound("msg-131047", rid), headers=AUTH)
    assert status == 202
    jobs = dict(await wait_jobs(rsync, 2))
    assert jobs["msg-131047-failed"]["error"]["code"] == "window_closed"


async def test_throttled_ack_is_retried_later_and_sent(make_wa, api, rsync):
    api.failures.append((400, {"error": {"code": 130429, "message": "Rate limit hit"}}, {"Retry-After": "0.2"}))
    gw = await make_wa()
    await post(gw, notification("wamid.TW0002"))
    await asyncio.to_thread(wait_for_records, rsync, 1, 15.0)
    calls = await api.wait_calls(1)
    assert len(calls) == 1 and api.failures == []  # refused once (130429), then accepted
    assert calls[0]["context"] == {"message_id": "wamid.TW0002"}
