"""``GET/POST /channels/twitter/webhook`` — X Account Activity API (docs/channels.md, X).

GET answers the CRC challenge. POST checks ``x-twitter-webhooks-signature`` over the raw body
before anything is parsed (forged ⇒ 403, counted by the endpoint wrapper, nothing stored), then
turns ``tweet_create_events`` and ``direct_message_events`` into messages. Our own tweets and
DMs, retweets, likes, follows, typing and read events are acknowledged and counted as skipped.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import orjson
from aiohttp import web

from channels.core.inbound import BadRequest, ChannelRequest, Endpoint, Forbidden, ParseOutcome, json_object
from channels.core.verify import Signature
from channels.twitter.convert import (
    PROVIDER_WEBHOOK,
    InvalidEvent,
    dm_message,
    tweet_message,
    view_from_v1,
)
from channels.twitter.signature import crc_response, crc_token_ok
from config.settings import Settings
from gateway.logging import get_logger
from normalizer.models import InboundMessage

log = get_logger("channels.twitter.inbound")

PATH = "/channels/twitter/webhook"
SIGNATURE_HEADER = "x-twitter-webhooks-signature"

# event arrays that are never complaints (acknowledged, counted as skipped)
_NOT_COMPLAINTS = {
    "favorite_events": "like",
    "follow_events": "follow",
    "unfollow_events": "follow",
    "block_events": "block",
    "unblock_events": "block",
    "mute_events": "mute",
    "unmute_events": "mute",
    "user_event": "user_event",
    "direct_message_indicate_typing_events": "typing",
    "direct_message_mark_read_events": "read",
    "tweet_delete_events": "delete",
}


def _secret(req: ChannelRequest) -> str:
    secret = Settings.secret(req.settings.twitter_consumer_secret)
    if secret is None:
        raise Forbidden("channel disabled")
    return secret


async def crc(req: ChannelRequest) -> ParseOutcome:
    """``GET …?crc_token=``: X's challenge, answered with the HMAC of the token."""
    secret = _secret(req)
    token = req.query.get("crc_token")
    if not token:
        raise BadRequest("crc_token query parameter required")
    if not crc_token_ok(token):  # anything else would make us an HMAC oracle (see signature.py)
        raise BadRequest("crc_token must be a base64 string of at most 128 characters")
    return ParseOutcome(response=web.json_response(crc_response(token, secret)))


def _tweets(events: list[Any], our_id: str, handle: str, skipped: Counter[str]) -> list[InboundMessage]:
    out = []
    for ev in events:
        if not isinstance(ev, dict):
            skipped["invalid"] += 1
            continue
        try:
            view = view_from_v1(ev)
        except InvalidEvent:
            skipped["invalid"] += 1
            log.warning("twitter.webhook.invalid_tweet_event")
            continue
        if view.author_id == our_id:
            skipped["own"] += 1
        elif view.retweet:
            skipped["retweet"] += 1
        elif not (view.mentions(our_id, handle) or view.in_reply_to_user_id == our_id):
            skipped["not_addressed"] += 1  # e.g. a quote of our tweet that does not mention us
        else:
            out.append(tweet_message(view, provider=PROVIDER_WEBHOOK, handle=handle,
                                     raw=orjson.dumps(ev).decode()))
    return out


def _dms(events: list[Any], users: dict[str, Any], our_id: str, handle: str,
         skipped: Counter[str]) -> list[InboundMessage]:
    out = []
    for ev in events:
        if not isinstance(ev, dict) or ev.get("type", "message_create") != "message_create":
            skipped["dm_other"] += 1
            continue
        mc = ev.get("message_create")
        sender = mc.get("sender_id") if isinstance(mc, dict) else None
        if sender is not None and str(sender) == our_id:
            skipped["own"] += 1
            continue
        try:
            out.append(dm_message(ev, users, handle=handle, raw=orjson.dumps(ev).decode()))
        except InvalidEvent:
            skipped["invalid"] += 1
            log.warning("twitter.webhook.invalid_dm_event")
    return out


async def parse(req: ChannelRequest) -> ParseOutcome:
    if crc_token_ok(req.body):  # a signature we handed out as a CRC answer, replayed on a POST
        raise Forbidden("body is a CRC token")
    data = json_object(req.body)
    settings = req.settings
    for_user = str(data.get("for_user_id") or "")
    our_id = settings.twitter_user_id or for_user
    skipped: Counter[str] = Counter()
    if settings.twitter_user_id and for_user and for_user != settings.twitter_user_id:
        # a subscription of another account on the same app: not ours to ingest
        skipped["other_account"] += 1
        return ParseOutcome(skipped=skipped)
    handle = settings.twitter_handle
    messages: list[InboundMessage] = []
    tweets = data.get("tweet_create_events")
    if isinstance(tweets, list):
        messages += _tweets(tweets, our_id, handle, skipped)
    dms = data.get("direct_message_events")
    if isinstance(dms, list):
        users = data["users"] if isinstance(data.get("users"), dict) else {}
        messages += _dms(dms, users, our_id, handle, skipped)
    for key, reason in _NOT_COMPLAINTS.items():
        if key in data:
            value = data[key]
            skipped[reason] += len(value) if isinstance(value, list) else 1
    if not messages and not skipped:
        skipped["unknown_event"] += 1
    return ParseOutcome(messages=messages, skipped=skipped)


def endpoints() -> list[Endpoint]:
    return [Endpoint(channel="twitter", path=PATH, methods=("GET",), parse=crc),
            Endpoint(channel="twitter", path=PATH, methods=("POST",), parse=parse,
                     authenticate=Signature(SIGNATURE_HEADER, "twitter_consumer_secret", encoding="base64"))]
