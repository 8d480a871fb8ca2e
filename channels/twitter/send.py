"""Acknowledgements on X, as @LAPOR1708 (OAuth 1.0a user context).

- DM in ⇒ DM out (``create_direct_message(participant_id=…)``), the full Indonesian text.
- Public mention ⇒ a public reply (``create_tweet(in_reply_to_tweet_id=…)``) carrying only the
  reference — nothing the citizen wrote, no name — short enough for one post.
- A mention marked anonymous/confidential is answered by DM instead: the converter already
  addresses those to the author; if the flag was set later (normalizer), the author is looked
  up from the tweet first, so no confidential report is ever acknowledged in public. The core's
  messages to such a record come with ``meta["dm_author"]`` (the send policy's decision): a DM
  to the author, or — author unknown, DMs closed — ``no_private_route``, never a public post.
- The API accepting a post or DM is the ``sent`` status (X reports nothing later).

The id of our public reply is remembered (``hooks.ack_key``) so that the citizen's answer to
it becomes a follow-up of their report rather than a new one.

Failures: 429 ⇒ ``TransientSendError(retry_after=until x-rate-limit-reset)``; a response with
``x-rate-limit-remaining: 0`` also pauses later sends until the reset; 5xx/network ⇒
transient; 400/401/403/404 ⇒ permanent (bad address, DMs closed, tweet gone, credentials).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import redis.asyncio as aioredis

from channels.core.outbound import OutboundMessage, PermanentSendError, SendResult, TransientSendError
from channels.core.send import SenderBase
from channels.twitter.hooks import THREAD_TTL_S, ack_key
from config.settings import Settings
from gateway import redis_clients
from gateway.logging import get_logger

if TYPE_CHECKING:  # tweepy and requests (~20 MB) are imported only once X credentials are set
    import requests
    import tweepy

log = get_logger("channels.twitter.send")
# the four OAuth 1.0a user-context secrets replies need (channels.twitter.api.user_credentials)
_USER_SECRETS = ("twitter_consumer_key", "twitter_consumer_secret", "twitter_access_token",
                 "twitter_access_token_secret")


def public_text(ref: str) -> str:
    """The public reply: the reference only (≤ 280 characters)."""
    return (f"Terima kasih, laporan Anda sudah kami terima. Nomor referensi: {ref}. "
            "Pantau perkembangannya di lapor.go.id dengan nomor tersebut.")


# what each tweepy call is on the wire, for the call log (ids are left out: they identify citizens)
_CALLS = {"create_direct_message": ("POST", "/2/dm_conversations/with/:participant_id/messages"),
          "create_tweet": ("POST", "/2/tweets"), "get_tweet": ("GET", "/2/tweets/:id")}


class TwitterSender(SenderBase):
    def __init__(self, settings: Settings, client: tweepy.Client | None = None) -> None:
        super().__init__()
        self.settings = settings
        self.client = client if client is not None else _user_client(settings)
        self.paused_until = 0.0
        self.sent = 0
        self.redis: aioredis.Redis | None = redis_clients.connect(settings, max_connections=16)

    async def close(self) -> None:
        if self.redis is not None:
            await self.redis.aclose()
        if self.client is not None:
            self.client.session.close()

    async def __call__(self, msg: OutboundMessage) -> SendResult:
        if self.client is None:
            raise PermanentSendError("X replies need LAPOR_TWITTER_CONSUMER_KEY/_SECRET and "
                                     "LAPOR_TWITTER_ACCESS_TOKEN/_SECRET", code="not_configured")
        wait = self.paused_until - time.time()
        if wait > 0:
            raise TransientSendError("X rate limit window exhausted", retry_after=wait)
        public_notice = False
        if msg.private:
            resp = await self._dm(msg.address, msg.text)
        elif msg.meta.get("dm_author") or (msg.kind == "ack" and (msg.anonymous or msg.confidential)):
            resp = await self._dm_author(msg)
        else:
            public_notice = msg.kind == "ack" and bool(msg.reference)
            text = public_text(msg.reference) if public_notice and msg.reference else msg.text
            resp = await self._call(self.client.create_tweet, text=text, in_reply_to_tweet_id=msg.address,
                                    user_auth=True)
            if msg.kind == "ack" and msg.record_id:
                await self._remember_ack(resp, msg.record_id)
        self.sent += 1
        return SendResult(provider_message_ids=_sent_id(resp), parts=1, public_notice=public_notice)

    async def _remember_ack(self, resp: requests.Response, record_id: str) -> None:
        """Our reply's tweet id → record, so the citizen answering it adds to their report.

        Best effort: the reply is already posted, so a failure here must not make the outbound
        worker send it again.
        """
        if self.redis is None:
            return
        try:
            tweet_id = str(((resp.json() or {}).get("data") or {}).get("id") or "")
            if tweet_id:
                await self.redis.set(ack_key(tweet_id), record_id, ex=THREAD_TTL_S)
        except Exception as exc:
            log.warning("twitter.send.ack_link_failed", error=type(exc).__name__)

    async def _dm_author(self, msg: OutboundMessage) -> requests.Response:
        """A confidential/anonymous report's answer, privately to the author of the public post.

        If the author cannot be found or does not take our DMs, the message is not sent at all
        (``no_private_route``): it never falls back to a public reply."""
        try:
            return await self._dm(await self._author_of(msg.address), msg.text)
        except PermanentSendError as exc:
            raise PermanentSendError(f"no private way to the author: {exc.reason}", code="no_private_route") from exc

    async def _dm(self, user_id: str, text: str) -> requests.Response:
        assert self.client is not None
        return await self._call(self.client.create_direct_message, participant_id=user_id, text=text, user_auth=True)

    async def _author_of(self, tweet_id: str) -> str:
        assert self.client is not None
        resp = await self._call(self.client.get_tweet, tweet_id, tweet_fields=["author_id"], user_auth=True)
        author = (((resp.json() or {}).get("data")) or {}).get("author_id")
        if not author:
            raise PermanentSendError("cannot find the author of the tweet to answer privately")
        return str(author)

    async def _call(self, fn: Callable[..., requests.Response], *args: Any, **kwargs: Any) -> requests.Response:
        import requests
        import tweepy

        method, path = _CALLS.get(getattr(fn, "__name__", ""), ("POST", "/2/?"))
        async with self.recorded("twitter", method, self.settings.twitter_api_url.rstrip("/") + path) as note:
            try:
                resp = await asyncio.to_thread(fn, *args, **kwargs)
            except tweepy.TooManyRequests as exc:
                note.status = 429
                retry = (exc.reset_time - time.time() + 1) if exc.reset_time else 60.0
                self.paused_until = max(self.paused_until, time.time() + retry)
                raise TransientSendError("429 from X", retry_after=max(retry, 1.0), rate_limited=True) from exc
            except tweepy.TwitterServerError as exc:
                note.status = exc.response.status_code
                raise TransientSendError(f"{exc.response.status_code} from X") from exc
            except tweepy.HTTPException as exc:  # 400, 401, 403, 404: will not get better by retrying
                note.status = exc.response.status_code
                raise PermanentSendError(f"{exc.response.status_code} from X: {exc.api_codes}",
                                         code="invalid_recipient" if note.status == 404 else "rejected") from exc
            except requests.RequestException as exc:
                note.status = "unreachable"
                raise TransientSendError(f"X unreachable: {type(exc).__name__}") from exc
            note.status = resp.status_code
        if resp.headers.get("x-rate-limit-remaining") == "0":
            with contextlib.suppress(ValueError):
                self.paused_until = float(resp.headers.get("x-rate-limit-reset", "0")) + 1
        return resp


def _user_client(settings: Settings) -> tweepy.Client | None:
    """The user-context client, or None (``not_configured``) without importing tweepy."""
    if not all(Settings.secret(getattr(settings, name)) for name in _USER_SECRETS):
        return None
    from channels.twitter.api import user_client

    return user_client(settings)


def _sent_id(resp: requests.Response) -> tuple[str, ...]:
    """X's id of what we posted: the tweet id, or the DM event id."""
    try:
        data = (resp.json() or {}).get("data") or {}
    except ValueError:
        return ()
    sent = data.get("id") or data.get("dm_event_id") if isinstance(data, dict) else None
    return (str(sent),) if sent else ()
