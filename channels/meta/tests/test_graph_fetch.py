"""The Graph fetcher runs a batch's look-ups concurrently, bounded, and keeps each message's outcome."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from channels.meta.graph_fetch import FETCH_CONCURRENCY, GraphFetcher
from channels.meta.tests.fake_graph import FakeGraph
from channels.meta.tests.test_flow import IG, PAGE
from normalizer.models import InboundMessage, Sender
from tests.support.fixtures import TOKENS


class SlowGraph(FakeGraph):
    """Holds each look-up a moment and remembers how many were in flight at once."""

    in_flight = 0
    most_in_flight = 0

    async def node(self, request: web.Request) -> web.Response:
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await asyncio.sleep(0.05)
            return await super().node(request)
        finally:
            self.in_flight -= 1


@pytest.fixture
async def graph() -> AsyncIterator[SlowGraph]:
    g = SlowGraph(TOKENS["meta_page_token"], PAGE, IG)
    await g.start()
    yield g
    await g.stop()


def mention(n: int) -> InboundMessage:
    native = f"1790000000000{n:04d}"
    return InboundMessage(channel="instagram", provider="meta", kind="mention", native_id=native,
                          sender=Sender(kind="instagram", id=f"unknown:{native}"), recipient=IG,
                          meta={"needs_fetch": True, "mention": {"media_id": native, "comment_id": None}},
                          id=f"01JDQ0000000000000000{n:05d}")


async def test_a_batch_is_fetched_concurrently_within_the_bound(graph, make_settings, r):
    for n in range(20):
        graph.media[f"1790000000000{n:04d}"] = {"caption": f"Jalan rusak nomor {n}", "media_type": "IMAGE",
                                                "username": f"warga{n}", "timestamp": "2026-11-23T01:00:00+0000"}
    msgs = [mention(n) for n in range(20)] + [mention(99)]  # the last one is unknown to Graph
    fetcher = GraphFetcher(make_settings(meta_graph_url=graph.url, meta_page_id=PAGE, meta_ig_user_id=IG))
    decisions = await fetcher.prepare_many(r, msgs)
    assert len(graph.gets) == 21  # one look-up per mention, none repeated
    assert 1 < graph.most_in_flight <= FETCH_CONCURRENCY
    assert [m.text for m in msgs[:20]] == [f"Jalan rusak nomor {n}" for n in range(20)]
    assert all(not isinstance(d, Exception) and d.emit[0].messages == [m] for d, m in zip(decisions, msgs, strict=True))
    assert msgs[20].text == "" and msgs[20].meta["fetch_error"]  # failed look-up: the record goes on without
