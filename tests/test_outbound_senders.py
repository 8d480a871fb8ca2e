"""The outbound worker and the sender base together: calls in the channel log, senders closed on stop."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

import orjson
from ulid import ULID

from channels.core.outbound import OutboundMessage, SendResult
from channels.core.send import SenderBase
from channels.meta.send import MetaSender
from channels.meta.tests.fake_graph import FakeGraph
from dispatcher.outbound import OutboundWorker
from gateway import keys
from gateway.channel_log import ChannelLog
from tests.support.fixtures import TOKENS

PAGE = "101010101010101"


class ClosingSender(SenderBase):
    def __init__(self) -> None:
        super().__init__()
        self.closed = 0
        self.sent = 0

    async def __call__(self, msg: OutboundMessage) -> SendResult:
        self.sent += 1
        return SendResult()

    async def close(self) -> None:
        self.closed += 1


async def run_until(ow: OutboundWorker, cond) -> None:
    task = asyncio.create_task(ow.run())
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not cond():
            await asyncio.sleep(0.05)
    finally:
        ow.stop()
        await asyncio.wait_for(task, 5)


async def test_ack_to_a_fake_provider_is_in_the_channel_log_and_the_session_closed_on_stop(r, make_settings):
    graph = await FakeGraph(TOKENS["meta_page_token"], PAGE).start()
    try:
        sender = MetaSender(make_settings(meta_graph_url=graph.url, meta_page_id=PAGE))
        ack = OutboundMessage(channel="facebook", address="6543210987654321", text="Nomor referensi LPR-ABCDE-FGHJK",
                              record_id=str(ULID()), reference="LPR-ABCDE-FGHJK",
                              meta={"sent_at": datetime.now(UTC).isoformat()})
        await r.xadd(keys.OUTBOUND_STREAM, {"m": ack.dumps()})
        sessions = []

        def sent() -> bool:
            if graph.calls and not sessions:
                sessions.append(sender.session())
            return bool(graph.calls)

        await run_until(OutboundWorker(r, {"facebook": sender, "instagram": sender}, "test-consumer"), sent)
    finally:
        await graph.stop()
    assert len(graph.calls) == 1
    assert sessions and sessions[0].closed  # the worker closed the sender's shared session on stop
    entries = await ChannelLog(r).recent("facebook")
    assert len(entries) == 1
    (row,) = entries
    assert row["status"] == 200 and row["method"] == "POST" and row["direction"] == "out"
    assert row["path"] == f"{graph.url}/{PAGE}/messages?access_token=<redacted>"
    dumped = orjson.dumps(entries).decode()
    assert TOKENS["meta_page_token"] not in dumped and "6543210987654321" not in dumped


async def test_a_sender_serving_two_channels_is_closed_once_and_plain_functions_still_work(r):
    shared = ClosingSender()
    plain_calls: list[str] = []

    async def plain(msg: OutboundMessage) -> None:
        plain_calls.append(msg.address)

    for channel in ("facebook", "instagram", "sms"):
        await r.xadd(keys.OUTBOUND_STREAM, {"m": OutboundMessage(channel=channel, address=f"a-{channel}",
                                                                 text="t").dumps()})
    await run_until(OutboundWorker(r, {"facebook": shared, "instagram": shared, "sms": plain}, "c"),
                    lambda: shared.sent == 2 and plain_calls)
    assert shared.sent == 2 and plain_calls == ["a-sms"]
    assert shared.closed == 1
    assert await r.xlen(keys.OUTBOUND_DEAD) == 0
