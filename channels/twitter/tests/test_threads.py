"""Threads: a citizen's self-replies become follow-up records linked to the first record."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from channels.twitter.hooks import thread_key
from channels.twitter.poller import MentionsPoller
from channels.twitter.signature import sign
from channels.twitter.tests.conftest import x_settings
from tests.support.core import wait_for_records
from tests.support.fixtures import TOKENS

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
PATH = "/channels/twitter/webhook"
SECRET = TOKENS["twitter_consumer_secret"]
AUTHOR = "3000000000000001"


def tweet(tid: str, text: str, author: str = AUTHOR, reply_to: tuple[str, str] | None = None) -> dict[str, Any]:
    t: dict[str, Any] = {"id_str": tid, "text": text, "created_at": "Sat Nov 22 09:00:00 +0000 2025",
                         "user": {"id_str": author, "screen_name": f"u{author[-3:]}", "name": "Warga"},
                         "entities": {"user_mentions": [{"id_str": "2818371708", "screen_name": "LAPOR1708"}],
                                      "hashtags": [], "urls": []}}
    if reply_to:
        t.update(in_reply_to_status_id_str=reply_to[0], in_reply_to_user_id_str=reply_to[1])
    return t


async def post(gw, events: list[dict[str, Any]]) -> None:
    body = json.dumps({"for_user_id": "2818371708", "tweet_create_events": events}).encode()
    status, _b, _h = await gw.post(PATH, data=body, headers={"Content-Type": "application/json",
                                                             "x-twitter-webhooks-signature": sign(body, SECRET)})
    assert status == 200


async def wait_n(rsync, n: int) -> dict[str, dict[str, Any]]:
    records = await asyncio.to_thread(wait_for_records, rsync, n, 10.0)
    assert len(records) == n
    return {rec["source"]["message_ids"][0]: rec for rec in records}


async def test_thread_continuations_link_to_the_first_record(gateway, r, rsync):
    sent = []

    async def record_ack(msg):
        sent.append(msg)

    await gateway.start_worker(senders={"twitter": record_ack})
    await post(gateway, [tweet("2000000000000000001", "@LAPOR1708 jalan desa rusak parah (1/3)")])
    recs = await wait_n(rsync, 1)
    first = recs["2000000000000000001"]
    await post(gateway, [tweet("2000000000000000002", "@LAPOR1708 sudah 2 tahun tidak diperbaiki (2/3)",
                               reply_to=("2000000000000000001", AUTHOR))])
    await post(gateway, [tweet("2000000000000000003", "@LAPOR1708 lokasinya di Desa Sukamaju (3/3)",
                               reply_to=("2000000000000000002", AUTHOR))])
    # someone else replying to the citizen is a complaint of its own, not a continuation
    await post(gateway, [tweet("2000000000000000004", "@warga @LAPOR1708 di desa saya juga",
                               author="3000000000000222", reply_to=("2000000000000000001", AUTHOR))])
    recs = await wait_n(rsync, 4)
    assert first["flags"] == [] and first["conversation"]["in_reply_to"] is None
    for tid in ("2000000000000000002", "2000000000000000003"):
        rec = recs[tid]
        assert "follow_up" in rec["flags"], tid
        assert rec["conversation"]["in_reply_to"] == first["id"], tid
        assert rec["reply_to"] is None  # one acknowledgement per thread
    other = recs["2000000000000000004"]
    assert "follow_up" not in other["flags"]
    assert other["conversation"]["in_reply_to"] is None  # not linked to a record of ours
    assert other["source"]["parent_message_id"] == "2000000000000000001"  # the tweet it answers
    for _ in range(100):
        if len(sent) >= 2:
            break
        await asyncio.sleep(0.05)
    assert sorted(m.record_id for m in sent) == sorted([first["id"], other["id"]])
    assert (await r.get(thread_key("2000000000000000003"))).decode() == first["id"]


async def test_thread_stored_in_one_batch_is_still_linked(make_gateway, fakex, rsync):
    """The poller stores a whole thread at once; the worker reads it in one batch."""
    fakex.load(json.loads((FIXTURES / "v2-timeline.json").read_text()))
    gw = await make_gateway(**x_settings(fakex))
    p = MentionsPoller(gw.ctx)
    assert await p.poll_once("2818371708") == 4
    await gw.start_worker(senders={})
    recs = await wait_n(rsync, 4)
    first, cont = recs["1992000000000000101"], recs["1992000000000000102"]
    assert cont["flags"] == ["follow_up"]
    assert cont["conversation"] == {"thread_id": "1992000000000000101", "in_reply_to": first["id"]}
    assert cont["confidential"] is True
    assert "follow_up" not in recs["1992000000000000401"]["flags"]  # a quote by someone else


async def test_answer_to_our_acknowledgement_is_a_follow_up_of_the_report(make_gateway, fakex, r, rsync):
    gw = await make_gateway(**x_settings(fakex))
    await gw.start_worker()  # the registry's sender posts the ack to the fake X API
    await post(gw, [tweet("2000000000000000010", "@LAPOR1708 sampah tidak diangkut seminggu")])
    (first,) = (await wait_n(rsync, 1)).values()
    for _ in range(200):
        if fakex.tweets:
            break
        await asyncio.sleep(0.05)
    ack_tweet_id = "1993000000000000001"  # the id the fake gave our reply
    for _ in range(100):
        if await r.get(f"lapor:twitter:ack:{ack_tweet_id}"):
            break
        await asyncio.sleep(0.05)
    await post(gw, [tweet("2000000000000000011", "@LAPOR1708 lokasinya di Jl. Merdeka 5",
                          reply_to=(ack_tweet_id, "2818371708"))])
    # a stranger answering our acknowledgement is not the reporter: a report of its own
    await post(gw, [tweet("2000000000000000012", "@LAPOR1708 di tempat saya juga", author="3000000000000333",
                          reply_to=(ack_tweet_id, "2818371708"))])
    recs = await wait_n(rsync, 3)
    follow = recs["2000000000000000011"]
    assert follow["flags"] == ["follow_up"] and follow["conversation"]["in_reply_to"] == first["id"]
    stranger = recs["2000000000000000012"]
    assert "follow_up" not in stranger["flags"] and stranger["reply_to"] is not None
