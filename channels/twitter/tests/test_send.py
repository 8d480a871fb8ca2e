"""Acknowledgements on X against the fake API (OAuth 1.0a signatures verified by the fake)."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import pytest

from channels.core.outbound import OutboundMessage, PermanentSendError, TransientSendError
from channels.core.reference import reference
from channels.twitter.send import TwitterSender, public_text
from channels.twitter.signature import sign
from channels.twitter.tests.conftest import x_settings
from channels.twitter.tests.fakex import Scripted
from tests.support.core import wait_for_records

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
REF = "LPR-ABCDE-FGHJK"


def ack(**kw) -> OutboundMessage:
    base: dict[str, Any] = dict(
                channel="twitter", address="1992000000000000101", thread="1992000000000000101", private=False,
                text="Terima kasih, laporan Anda sudah diterima oleh LAPOR!. Nomor referensi: " + REF,
                record_id="01JAAAAAAAAAAAAAAAAAAAAAAA", reference=REF, provider="x-webhook")
    base.update(kw)
    return OutboundMessage(**base)


@pytest.fixture
def sender(make_settings, fakex):
    fakex.load(json.loads((FIXTURES / "v2-timeline.json").read_text()))
    return TwitterSender(make_settings(**x_settings(fakex)))


async def test_public_mention_gets_a_public_reply_with_the_reference_only(sender, fakex):
    await sender(ack())
    (tw,) = fakex.tweets
    assert tw["reply"] == {"in_reply_to_tweet_id": "1992000000000000101"}
    assert tw["text"] == public_text(REF) and REF in tw["text"] and len(tw["text"]) <= 280
    assert not fakex.dms


async def test_dm_is_answered_by_dm(sender, fakex):
    await sender(ack(address="3000000000000001", thread=None, private=True))
    (dm,) = fakex.dms
    assert dm["participant_id"] == "3000000000000001" and REF in dm["text"]
    assert not fakex.tweets


@pytest.mark.parametrize("mark", ["confidential", "anonymous"])
async def test_confidential_mention_flagged_later_is_answered_privately(sender, fakex, mark):
    await sender(ack(**{mark: True}))
    assert not fakex.tweets
    (lookup,) = fakex.calls("lookup")
    assert lookup["id"] == "1992000000000000101" and lookup["query"]["tweet.fields"] == "author_id"
    (dm,) = fakex.dms
    assert dm["participant_id"] == "3000000000000001"


async def test_429_is_transient_with_retry_after_the_reset(sender, fakex):
    reset = int(time.time()) + 30
    fakex.script["tweets"] = [Scripted(429, {"title": "Too Many Requests"}, {"x-rate-limit-reset": str(reset)})]
    with pytest.raises(TransientSendError) as err:
        await sender(ack())
    assert err.value.retry_after is not None and 25 <= err.value.retry_after <= 32
    with pytest.raises(TransientSendError):  # paused: no request until the window resets
        await sender(ack(address="1992000000000000102"))
    assert len(fakex.calls("tweet")) == 1


@pytest.mark.parametrize(("status", "error"), [(503, TransientSendError), (500, TransientSendError),
                                               (403, PermanentSendError), (400, PermanentSendError),
                                               (404, PermanentSendError)])
async def test_errors_are_classified(sender, fakex, status, error):
    fakex.script["dm"] = [Scripted(status, {"title": "x", "detail": "y"})]
    with pytest.raises(error):
        await sender(ack(address="3000000000000001", private=True))


async def test_wrong_user_secret_is_refused_by_the_signature_check(make_settings, fakex):
    s = TwitterSender(make_settings(**x_settings(fakex, twitter_access_token_secret="wrong")))
    with pytest.raises(PermanentSendError, match="401"):
        await s(ack())
    assert fakex.calls("tweet") and not fakex.tweets


async def test_without_user_credentials_fails_permanently(make_settings, fakex):
    s = TwitterSender(make_settings(**x_settings(fakex, twitter_access_token=None)))
    with pytest.raises(PermanentSendError, match="ACCESS_TOKEN"):
        await s(ack())
    assert not fakex.log


async def test_unreachable_api_is_transient(make_settings):
    s = TwitterSender(make_settings(twitter_api_url="http://127.0.0.1:9", twitter_consumer_key="k",
                                    twitter_access_token="t", twitter_access_token_secret="s"))
    with pytest.raises(TransientSendError):
        await s(ack())


async def test_end_to_end_mention_to_public_reply(make_gateway, fakex, rsync):
    fakex.load(json.loads((FIXTURES / "v2-timeline.json").read_text()))
    gw = await make_gateway(**x_settings(fakex))
    await gw.start_worker()  # the registry's senders and preprocessors
    body = (FIXTURES / "aaa-mention.json").read_bytes()
    dm_body = (FIXTURES / "aaa-dm.json").read_bytes()
    for b in (body, dm_body):
        status, _b, _h = await gw.post("/channels/twitter/webhook", data=b, headers={
            "Content-Type": "application/json",
            "x-twitter-webhooks-signature": sign(b, gw.settings.twitter_consumer_secret.get_secret_value())})
        assert status == 200
    records = await asyncio.to_thread(wait_for_records, rsync, 2, 10.0)
    by_kind = {rec["source"]["kind"]: rec for rec in records}
    for _ in range(200):
        if fakex.tweets and fakex.dms:
            break
        await asyncio.sleep(0.05)
    (tw,) = fakex.tweets
    assert tw["reply"]["in_reply_to_tweet_id"] == "1992000000000000101"
    assert reference(by_kind["mention"]["id"]) in tw["text"]
    assert "Siti" not in tw["text"] and "Dago" not in tw["text"]
    (dm,) = fakex.dms
    assert dm["participant_id"] == "3000000000000001" and reference(by_kind["dm"]["id"]) in dm["text"]


async def test_ack_rate_limited_by_x_is_retried_after_the_reset(make_gateway, fakex, rsync):
    fakex.load(json.loads((FIXTURES / "v2-timeline.json").read_text()))
    reset = int(time.time()) + 2
    fakex.script["tweets"] = [Scripted(429, {"title": "Too Many Requests"},
                                       {"x-rate-limit-limit": "200", "x-rate-limit-remaining": "0",
                                        "x-rate-limit-reset": str(reset)})]
    gw = await make_gateway(**x_settings(fakex))
    await gw.start_worker()
    body = (FIXTURES / "aaa-mention.json").read_bytes()
    status, _b, _h = await gw.post("/channels/twitter/webhook", data=body, headers={
        "Content-Type": "application/json", "x-twitter-webhooks-signature": sign(body, fakex.creds.consumer_secret)})
    assert status == 200
    (rec,) = await asyncio.to_thread(wait_for_records, rsync, 1, 10.0)
    for _ in range(300):
        if fakex.tweets:
            break
        await asyncio.sleep(0.05)
    assert len(fakex.tweets) == 1 and reference(rec["id"]) in fakex.tweets[0]["text"]
    attempts = fakex.calls("tweet")
    assert len(attempts) == 2  # the 429, then one retry once the window reset
    assert attempts[1]["at"] >= reset


async def test_calls_are_logged_as_path_templates_and_the_result_names_the_post(sender, fakex):
    rows: list[dict[str, Any]] = []

    class Rows:
        def record(self, channel: str, **row: Any) -> None:
            rows.append(dict(row, channel=channel))

    sender.attach(Rows())
    public = await sender(ack())
    private = await sender(ack(address="3000000000000001", thread=None, private=True))
    await sender.close()
    assert public.public_notice and public.provider_message_ids and not private.public_notice
    assert private.provider_message_ids and private.provider_message_ids != public.provider_message_ids
    assert [(r["channel"], r["method"], r["status"]) for r in rows] == [("twitter", "POST", 201)] * 2
    assert rows[0]["path"].endswith("/2/tweets")
    assert rows[1]["path"].endswith("/2/dm_conversations/with/:participant_id/messages")
    assert all("3000000000000001" not in r["path"] and "1992000000000000101" not in r["path"] for r in rows)
