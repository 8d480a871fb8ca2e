"""Mentions poller against the fake X API: pagination, since_id across restarts, 429, 401, 5xx,
and no duplicate when the webhook and the poller both see a tweet."""

from __future__ import annotations

import asyncio
import inspect
import json
import time
from pathlib import Path

import pytest

from channels.twitter.poller import CHECKPOINT_KEY, LEASE_KEY, MentionsPoller, TransientError
from channels.twitter.signature import sign
from channels.twitter.tests.conftest import x_settings
from channels.twitter.tests.fakex import Scripted
from gateway.services import read_states
from tests.support.core import wait_for_records
from tests.support.fixtures import TOKENS
from tests.support.harness import stream_tail

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
TIMELINE = json.loads((FIXTURES / "v2-timeline.json").read_text())
# the timeline minus our own tweet and the retweet, oldest first
EXPECTED = ["1992000000000000101", "1992000000000000102", "1992000000000000303", "1992000000000000401"]


async def until(cond, timeout=15.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        res = cond()
        if inspect.isawaitable(res):
            res = await res
        if res:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
async def gw(make_gateway, fakex):
    fakex.load(TIMELINE)
    return await make_gateway(**x_settings(fakex))


def poller(gw, page_size=5):
    p = MentionsPoller(gw.ctx)
    p.page_size = page_size
    return p


async def stored_ids(r):
    return [m.native_id for _e, m in await stream_tail(r)]


async def test_pages_followed_stored_oldest_first_then_checkpoint(gw, fakex, r):
    p = poller(gw)
    assert await p.poll_once("2818371708") == 4
    calls = fakex.calls("mentions")
    assert len(calls) == 2
    first, second = calls[0]["query"], calls[1]["query"]
    assert "since_id" not in first and "pagination_token" not in first
    assert second["pagination_token"] == "pt-5"
    assert first["max_results"] == "5"
    assert set(first["expansions"].split(",")) >= {"author_id", "attachments.media_keys", "geo.place_id",
                                                   "referenced_tweets.id"}
    assert {"conversation_id", "entities", "note_tweet", "created_at"} <= set(first["tweet.fields"].split(","))
    assert "variants" in first["media.fields"] and "full_name" in first["place.fields"]
    assert all(c["auth"] == "Bearer " + fakex.creds.bearer for c in calls)
    assert await stored_ids(r) == EXPECTED  # own tweet and retweet skipped; oldest first
    assert (await r.get(CHECKPOINT_KEY)).decode() == "1992000000000000900"  # first page's newest_id (our own tweet)
    msgs = [m for _e, m in await stream_tail(r)]
    assert {m.provider for m in msgs} == {"x-poll"}
    assert msgs[0].sender.handle == "siti_bdg" and msgs[0].attachments[1].kind == "video"
    assert p.state["state"] == "ok" and p.state["since_id"] == "1992000000000000900"


async def test_since_id_survives_a_restart(gw, fakex, r, make_gateway):
    await poller(gw).poll_once("2818371708")
    await gw.stop()
    gw2 = await make_gateway(**x_settings(fakex))  # a new process: only Redis remembers
    p2 = poller(gw2)
    assert await p2.poll_once("2818371708") == 0
    assert fakex.calls("mentions")[-1]["query"]["since_id"] == "1992000000000000900"
    new = {"id": "1992000000000000950", "text": "@LAPOR1708 air PDAM mati tiga hari", "author_id": "3000000000000090",
           "created_at": "2025-11-22T09:00:00.000Z", "conversation_id": "1992000000000000950",
           "entities": {"mentions": [{"start": 0, "end": 10, "username": "LAPOR1708", "id": "2818371708"}]}}
    fakex.add([new], {"users": [{"id": "3000000000000090", "username": "pdam_warga", "name": "Warga"}]})
    assert await p2.poll_once("2818371708") == 1
    assert (await stored_ids(r))[-1] == "1992000000000000950"
    assert (await r.get(CHECKPOINT_KEY)).decode() == "1992000000000000950"
    assert await p2.poll_once("2818371708") == 0  # nothing newer: checkpoint kept
    assert (await r.get(CHECKPOINT_KEY)).decode() == "1992000000000000950"


async def test_failure_on_a_later_page_stores_nothing_and_keeps_checkpoint(gw, fakex, r):
    await r.set(CHECKPOINT_KEY, "1992000000000000100")
    fakex.script["mentions"] = [None, Scripted(503, {"title": "Service Unavailable"})]
    p = poller(gw)
    with pytest.raises(TransientError):
        await p.poll_once("2818371708")
    assert await r.xlen("lapor:inbound") == 0
    assert (await r.get(CHECKPOINT_KEY)).decode() == "1992000000000000100"
    assert await p.poll_once("2818371708") == 4  # the next poll gets everything
    assert fakex.calls("mentions")[-1]["query"]["since_id"] == "1992000000000000100"
    await gw.ctx.channel_log.flush()
    log = await gw.ctx.channel_log.recent("twitter")
    assert any(e["status"] == 502 and "transient" in e["error"] and "503" in e["error"] for e in log)
    assert any(e["status"] == 200 and e.get("stored") == 4 and e.get("pages") == 2 for e in log)


async def test_all_800_reachable_mentions_in_one_poll(gw, fakex, r):
    base = 1996000000000000000
    fakex.load({"data": [{"id": str(base + i), "author_id": "3000000000000001", "text": f"@LAPOR1708 laporan {i}",
                          "entities": {"mentions": [{"username": "LAPOR1708", "id": "2818371708"}]}}
                         for i in range(850)], "includes": TIMELINE["includes"]})
    p = poller(gw, page_size=100)
    assert await p.poll_once("2818371708") == 800  # X serves only the latest 800
    assert len(fakex.calls("mentions")) == 8
    assert (await r.get(CHECKPOINT_KEY)).decode() == str(base + 849)
    ids = await stored_ids(r)
    assert ids == sorted(ids, key=int) and ids[0] == str(base + 50)


async def test_429_sleeps_until_reset_then_continues(gw, fakex, r):
    reset = int(time.time()) + 2
    fakex.script["mentions"] = [Scripted(429, {"title": "Too Many Requests"},
                                         {"x-rate-limit-limit": "10", "x-rate-limit-remaining": "0",
                                          "x-rate-limit-reset": str(reset)})]
    p = poller(gw)
    task = asyncio.create_task(p.poll_once("2818371708"))
    await until(lambda: p.state["state"] == "rate_limited", what="rate_limited state")
    resume_at = p.state["resume_at"]
    assert await task == 4
    calls = fakex.calls("mentions")
    assert len(calls) == 3  # 429, then both pages
    assert calls[1]["at"] >= reset, "retried before x-rate-limit-reset"
    assert resume_at >= reset


async def test_exhausted_window_waits_before_next_request(gw, fakex, r):
    reset = int(time.time()) + 2
    fakex.rate_headers = {"x-rate-limit-limit": "450", "x-rate-limit-remaining": "0",
                          "x-rate-limit-reset": str(reset)}
    p = poller(gw)
    await p.poll_once("2818371708")
    calls = fakex.calls("mentions")
    assert len(calls) == 2 and calls[1]["at"] >= reset
    assert p.min_interval_s == pytest.approx(2.0)  # 900 s / 450 requests


async def test_401_marks_needing_credentials_in_health(make_gateway, fakex, r):
    fakex.load(TIMELINE)
    gw = await make_gateway(**x_settings(fakex, twitter_bearer_token="revoked-token", twitter_poll=True))
    await until(lambda: fakex.calls("mentions"), what="first poll")

    async def published():
        st = (await read_states(r)).get("twitter-mentions")
        return st is not None and st["state"] == "error"

    await until(published, what="error state")
    st = (await read_states(r))["twitter-mentions"]
    assert st["error_kind"] == "auth" and "new credentials" in st["detail"]
    assert st["channel"] == "twitter" and "401" in st["last_error"]
    assert "revoked-token" not in json.dumps(st)
    assert await r.xlen("lapor:inbound") == 0 and await r.get(CHECKPOINT_KEY) is None
    assert len(fakex.calls("mentions")) == 1  # no hammering with a bad token
    await gw.stop()


async def test_5xx_backs_off_then_recovers(make_gateway, fakex, r):
    fakex.load(TIMELINE)
    fakex.script["mentions"] = [Scripted(503, {"title": "Service Unavailable"}), Scripted(500, {})]
    gw = await make_gateway(**x_settings(fakex, twitter_poll=True))
    await until(lambda: len(fakex.calls("mentions")) >= 1, what="first poll")

    async def state_is(name):
        st = (await read_states(r)).get("twitter-mentions") or {}
        return st.get("state") == name

    async def ok():
        return await r.xlen("lapor:inbound") == 4

    await until(ok, timeout=20, what="recovery after 5xx")
    calls = fakex.calls("mentions")
    assert calls[1]["at"] - calls[0]["at"] >= 0.9  # backed off (1 s, then 2 s)
    assert calls[2]["at"] - calls[1]["at"] >= 1.9
    await until(lambda: state_is("ok"), what="ok state")
    st = (await read_states(r))["twitter-mentions"]
    assert st["error_kind"] is None and "TransientError" in st["last_error"]
    await gw.stop()


async def test_looks_up_our_user_id_when_not_configured(make_gateway, fakex, r):
    fakex.load(TIMELINE)
    gw = await make_gateway(**x_settings(fakex, twitter_user_id=None))
    p = poller(gw)
    assert await p.user_id() == "2818371708"
    assert fakex.calls("user")[0]["name"] == "LAPOR1708"
    assert await MentionsPoller(gw.ctx).user_id() == "2818371708"  # cached in Redis
    assert len(fakex.calls("user")) == 1


async def test_the_lease_outlives_a_rate_limit_sleep_longer_than_itself(gw, fakex, r):
    """A 429 sleep (up to 16 min) must not let the lease lapse: the limit is the app's, a standby
    taking over would poll into the same 429."""
    reset = int(time.time()) + 3
    fakex.script["mentions"] = [Scripted(429, {"title": "Too Many Requests"}, {"x-rate-limit-reset": str(reset)})]
    p, standby = poller(gw), poller(gw)
    p.lease.ttl_ms = standby.lease.ttl_ms = 900  # the sleep lasts > 3 leases
    assert await p.lease.hold()
    task = asyncio.create_task(p.poll_once("2818371708"))
    await until(lambda: p.state["state"] == "rate_limited", what="rate_limited state")
    while time.time() < reset:
        await asyncio.sleep(0.3)
        assert (await r.get(LEASE_KEY)) == p.lease.token.encode(), "lease lapsed during the 429 sleep"
        assert not await standby.lease.hold()
    assert await task == 4
    assert not await standby.lease.renew()  # renew never takes a lease that is not ours


async def test_webhook_and_poller_both_on_give_one_record_per_tweet(gw, fakex, r, rsync):
    body = (FIXTURES / "aaa-mention.json").read_bytes()
    secret = TOKENS["twitter_consumer_secret"]
    status, _b, _h = await gw.post("/channels/twitter/webhook", data=body,
                                   headers={"Content-Type": "application/json",
                                            "x-twitter-webhooks-signature": sign(body, secret)})
    assert status == 200
    await gw.start_worker(senders={})
    assert await poller(gw).poll_once("2818371708") == 3  # 101 came by webhook first
    records = await asyncio.to_thread(wait_for_records, rsync, 4, 10.0)
    keys_ = sorted(rec["idempotency_key"] for rec in records)
    assert keys_ == sorted(f"twitter:{i}" for i in EXPECTED)
    by_key = {rec["idempotency_key"]: rec for rec in records}
    assert by_key["twitter:1992000000000000101"]["source"]["provider"] == "x-webhook"
    assert by_key["twitter:1992000000000000303"]["source"]["provider"] == "x-poll"


async def test_one_poller_per_deployment_the_other_stands_by(gw, fakex, r):
    a, b = MentionsPoller(gw.ctx), MentionsPoller(gw.ctx)
    await a.start()
    await until(lambda: a.state["state"] == "ok", what="first poller polling")
    await b.start()
    await until(lambda: b.state["state"] == "standby", what="second poller standing by")
    assert a.state["state"] == "ok"
    await a.stop()  # releases the lease: the other one takes over
    polls = len(fakex.calls("mentions"))
    await until(lambda: b.state["state"] == "ok" and len(fakex.calls("mentions")) > polls, what="takeover")
    await b.stop()
    assert await r.xlen("lapor:inbound") == 4


async def test_redis_down_poller_neither_spools_nor_advances(gw, fakex, r, redis_proc):
    """Pollers store with allow_spool=False: with Redis gone the poll fails and nothing moves."""
    p = poller(gw, page_size=100)
    fakex.on_mentions = lambda: redis_proc.stop()  # Redis dies while X answers
    with pytest.raises(TransientError, match="intake unavailable"):
        await p.poll_once("2818371708")
    spool = Path(gw.settings.data_dir) / "spool"
    assert not any(f.stat().st_size for f in spool.glob("*")) if spool.exists() else True
    fakex.on_mentions = None
    redis_proc.start()  # (not persistent: a fresh, empty Redis)
    for _ in range(50):  # the client reconnects on its own
        try:
            assert await p.poll_once("2818371708") == 4
            break
        except Exception:
            await asyncio.sleep(0.2)
    else:
        raise AssertionError("poller did not recover after Redis came back")
    assert (await r.get(CHECKPOINT_KEY)).decode() == "1992000000000000900"


async def test_first_start_backfills_only_recent_mentions(make_gateway, fakex, r):
    now = time.time()

    def iso(ts: float) -> str:
        return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(ts))

    def mention(i: int, ts: float) -> dict:
        return {"id": str(1997000000000000000 + i), "author_id": "3000000000000001", "created_at": iso(ts),
                "text": f"@LAPOR1708 laporan {i}", "entities": {"mentions": [{"username": "LAPOR1708"}]}}

    fakex.load({"data": [mention(1, now - 3 * 86400), mention(2, now - 600), mention(3, now - 60)],
                "includes": {}})
    gw = await make_gateway(**x_settings(fakex, twitter_backfill_s=3600))
    p = poller(gw)
    assert await p.poll_once("2818371708") == 2
    first = fakex.calls("mentions")[0]["query"]
    assert abs(time.mktime(time.strptime(first["start_time"], "%Y-%m-%dT%H:%M:%SZ")) - time.mktime(
        time.gmtime(now - 3600))) < 120
    assert await stored_ids(r) == ["1997000000000000002", "1997000000000000003"]
    fakex.add([mention(4, now - 5 * 86400 + 1)])  # an id newer than the checkpoint: since_id rules now
    assert await p.poll_once("2818371708") == 1
    last = fakex.calls("mentions")[-1]["query"]
    assert "start_time" not in last and last["since_id"] == "1997000000000000003"
