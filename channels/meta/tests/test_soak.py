"""Soak (slow, run with ``-m slow``): many concurrent signed deliveries, each delivered twice,
through the whole pipeline: every citizen event becomes exactly one core record and exactly one
Send API acknowledgement."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter

import pytest

from channels.meta.tests.fake_graph import FakeGraph
from channels.meta.tests.test_flow import PAGE, post
from tests.support.core import wait_for_records
from tests.support.fixtures import TOKENS

DELIVERIES = 300
PER_DELIVERY = 5


def delivery(n: int) -> dict:
    now_ms = int(time.time() * 1000)
    entries = []
    for i in range(PER_DELIVERY):
        k = n * PER_DELIVERY + i
        if i % 2:
            entries.append({"id": PAGE, "time": now_ms // 1000, "changes": [{"field": "feed", "value": {
                "from": {"id": f"55{k:08d}", "name": "Warga"}, "post_id": f"{PAGE}_1", "comment_id": f"1_{k}",
                "created_time": now_ms // 1000, "item": "comment", "verb": "add", "message": f"Keluhan {k}"}}]})
        else:
            entries.append({"id": PAGE, "time": now_ms, "messaging": [{"sender": {"id": f"65{k:08d}"},
                            "recipient": {"id": PAGE}, "timestamp": now_ms,
                            "message": {"mid": f"m_soak_{k}", "text": f"Laporan {k}"}}]})
    entries.append({"id": PAGE, "time": now_ms, "messaging": [{"sender": {"id": PAGE}, "recipient": {"id": "1"},
                    "timestamp": now_ms, "message": {"is_echo": True, "mid": f"m_echo_{n}", "text": "ok"}}]})
    return {"object": "page", "entry": entries}


@pytest.mark.slow
async def test_soak_exactly_once_records_and_acks(make_gateway, rsync):
    graph = await FakeGraph(TOKENS["meta_page_token"], PAGE).start()
    try:
        gw = await make_gateway(meta_graph_url=graph.url, meta_page_id=PAGE)
        await gw.start_worker()
        await gw.start_worker()  # two dispatcher/outbound workers compete for the same streams
        docs = [delivery(n) for n in range(DELIVERIES)]
        sem = asyncio.Semaphore(16)

        async def send(doc: dict) -> None:
            async with sem:
                await post(gw, doc)

        await asyncio.gather(*(send(d) for d in docs + docs[::-1]))  # every delivery twice
        total = DELIVERIES * PER_DELIVERY
        records = await asyncio.to_thread(wait_for_records, rsync, total, 120.0)
        keys = Counter(r["idempotency_key"] for r in records)
        assert len(records) == total and max(keys.values()) == 1
        calls = await graph.wait_calls(total, timeout=120)
        await asyncio.sleep(1)
        assert len(graph.calls) == total and graph.rejected == []
        recipients = Counter(json.dumps(c["body"]["recipient"], sort_keys=True) for c in graph.calls)
        assert max(recipients.values()) == 1, "one acknowledgement per record"
        assert len(calls) == total
    finally:
        await graph.stop()
