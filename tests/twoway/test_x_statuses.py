"""X end to end: the API accepting a post or DM is ``sent``. A public mention gets the neutral
notice only (never the core's text); a confidential mention's answers go by DM to the author —
also when the core names the public tweet — and fail ``no_private_route`` when the author
cannot be found; nothing confidential is ever posted."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import redis

from channels.core.reference import reference
from channels.sms.tests.conftest import eventually
from channels.twitter.signature import sign
from channels.twitter.tests.conftest import fakex, x_settings  # noqa: F401 (fixture)
from channels.twitter.tests.fakex import FakeX
from dispatcher.outbound_worker import CoreMessageWorker
from tests.support.core import wait_for_records
from tests.twoway import support
from tests.twoway.support import AUTH, OUT_TOKEN, _async, outbound, status_ids, status_jobs

FIXTURES = Path(__file__).resolve().parents[2] / "channels" / "twitter" / "fixtures"
TWEET, AUTHOR = "1992000000000000101", "3000000000000001"
SECRET = "RAHASIA-ISI jawaban dinas"


async def webhook(gw: Any, doc: dict[str, Any]) -> None:
    body = orjson.dumps(doc)
    status, _, _ = await gw.post("/channels/twitter/webhook", data=body, headers={
        "Content-Type": "application/json",
        "x-twitter-webhooks-signature": sign(body, gw.settings.twitter_consumer_secret.get_secret_value())})
    assert status == 200


def core_worker(gw: Any) -> contextlib.AbstractAsyncContextManager[CoreMessageWorker]:
    return support.core_worker(gw, "x-core", close_senders=True)


async def test_x_public_notice_and_confidential_by_dm(make_gateway: Callable[..., Any], fakex: FakeX,  # noqa: F811
                                                     rsync: redis.Redis) -> None:
    fakex.load(json.loads((FIXTURES / "v2-timeline.json").read_text()))
    gw = await make_gateway(outbound_token=OUT_TOKEN, **x_settings(fakex))
    await gw.start_worker()
    mention = json.loads((FIXTURES / "aaa-mention.json").read_text())
    await webhook(gw, mention)
    public_rid = str((await asyncio.to_thread(wait_for_records, rsync, 1))[-1]["id"])
    secret = copy.deepcopy(mention)
    ev = secret["tweet_create_events"][0]
    ev["id"], ev["id_str"] = 1992000000000000999, "1992000000000000999"
    ev["text"] += " #rahasia"
    ev["entities"]["hashtags"].append({"text": "rahasia", "indices": [0, 8]})
    await webhook(gw, secret)
    recs = await asyncio.to_thread(wait_for_records, rsync, 2)
    conf = next(r for r in recs if r["id"] != public_rid)
    assert conf["confidential"] is True
    conf_rid = str(conf["id"])
    await eventually(lambda: _async(len(fakex.tweets) >= 1 and len(fakex.dms) >= 1))  # the two acks
    n_tweets, n_dms = len(fakex.tweets), len(fakex.dms)
    async with core_worker(gw):
        # a public mention: the neutral notice, in the thread of the citizen's tweet
        assert (await gw.post("/outbound/messages", json=outbound("x-pub", public_rid, text=SECRET),
                              headers=AUTH))[0] == 202
        await eventually(lambda: _async(status_ids(rsync, "x-pub-") == ["x-pub-queued", "x-pub-sent"]))
        tweet = fakex.tweets[-1]
        assert tweet["reply"]["in_reply_to_tweet_id"] == TWEET and reference(public_rid) in tweet["text"]
        assert SECRET not in tweet["text"]
        sent = dict(status_jobs(rsync))["x-pub-sent"]
        assert sent["public_notice"] is True and sent["provider_message_ids"]
        # the confidential mention: its own route is the author's DMs
        assert (await gw.post("/outbound/messages", json=outbound("x-conf", conf_rid, text=SECRET),
                              headers=AUTH))[0] == 202
        await eventually(lambda: _async(status_ids(rsync, "x-conf-") == ["x-conf-queued", "x-conf-sent"]))
        assert fakex.dms[-1]["participant_id"] == AUTHOR and fakex.dms[-1]["text"] == SECRET
        # the core names the public tweet: still a DM to its author, never a post
        public_route = {"channel": "twitter", "address": TWEET, "private": False}
        assert (await gw.post("/outbound/messages", json=outbound("x-conf2", conf_rid, text=SECRET,
                                                                  reply_to=public_route), headers=AUTH))[0] == 202
        await eventually(lambda: _async(status_ids(rsync, "x-conf2-") == ["x-conf2-queued", "x-conf2-sent"]))
        assert fakex.dms[-1]["participant_id"] == AUTHOR
        assert dict(status_jobs(rsync))["x-conf2-sent"]["public_notice"] is False
        # a tweet whose author cannot be found: no private route, nothing posted
        gone = {"channel": "twitter", "address": "1992000000000000555", "private": False}
        assert (await gw.post("/outbound/messages", json=outbound("x-conf3", conf_rid, text=SECRET,
                                                                  reply_to=gone), headers=AUTH))[0] == 202
        await eventually(lambda: _async(status_ids(rsync, "x-conf3-") == ["x-conf3-queued", "x-conf3-failed"]))
        assert dict(status_jobs(rsync))["x-conf3-failed"]["error"]["code"] == "no_private_route"
    assert len(fakex.tweets) == n_tweets + 1 and len(fakex.dms) == n_dms + 2
    assert not [t for t in fakex.tweets if SECRET in t["text"]]
