"""Mentions poller: ``GET /2/users/:id/mentions`` with tweepy, ``since_id`` checkpoint in Redis.

One poll follows ``next_token`` through every page newer than the checkpoint (X keeps only the
latest 800 mentions reachable), stores the tweets oldest first — so a thread's first tweet is
stored before its continuations — through intake with ``allow_spool=False``, and only then
moves the checkpoint to the first page's ``newest_id``. A crash or a Redis outage anywhere in
between leaves the checkpoint where it was: the next poll fetches the same tweets again and
intake's dedupe (``twitter:<tweet id>``) drops what was already stored.

Errors: 429 ⇒ sleep until ``x-rate-limit-reset`` (also when a response says
``x-rate-limit-remaining: 0``); 401/403 ⇒ state ``error`` with error_kind ``auth`` (health: needs new credentials),
retried slowly; 5xx/network/Redis ⇒ transient, the service backoff. tweepy is synchronous, so
each call runs in a thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import orjson
import requests
import tweepy

from channels.core.ingest import OK, UNAVAILABLE, UPSTREAM_ERROR, IntakeUnavailable
from channels.core.lease import Lease
from channels.core.service import PollError, Service, ServiceContext
from channels.twitter.api import MENTION_PARAMS, app_client
from channels.twitter.convert import PROVIDER_POLL, InvalidEvent, tweet_message, view_from_v2
from gateway import keys, metrics
from gateway.logging import get_logger
from normalizer.models import InboundMessage

log = get_logger("channels.twitter.poller")

CHECKPOINT_KEY = keys.state("twitter:since_id")
USER_ID_KEY = keys.state("twitter:user_id")
LEASE_KEY = keys.state("twitter:poller-lease")
PAGE_SIZE = 100
REACHABLE = 800  # X serves only the latest 800 mentions
STORE_CHUNK = 200


class AuthError(PollError):
    """401/403: the bearer token is wrong or revoked; only new credentials help."""

    error_kind = "auth"


class TransientError(PollError):
    error_kind = "transient"


class InvalidRequest(PollError):
    error_kind = "invalid"


def _newer(a: str | None, b: str | None) -> bool:
    """Tweet ids are 64-bit numbers in strings: compare them numerically."""
    if a is None:
        return False
    return b is None or int(a) > int(b)


class MentionsPoller(Service):
    name = "twitter-mentions"
    channel = "twitter"

    def __init__(self, ctx: ServiceContext, client: tweepy.Client | None = None) -> None:
        super().__init__(ctx.redis)
        self.ctx = ctx
        self.settings = ctx.settings
        self.client = client or app_client(ctx.settings)
        self.interval_s = ctx.settings.twitter_poll_interval_s
        self.page_size = PAGE_SIZE
        self.reachable = REACHABLE
        self.auth_retry_s = 300.0
        self.max_rate_sleep_s = 16 * 60.0
        self.min_interval_s = 0.0  # raised from x-rate-limit-limit (15 min window / limit)
        self.polls = 0
        self.lease = Lease(self.redis, LEASE_KEY, 30_000)  # channels.core.lease, ttl set per round

    # ------------------------------------------------------------------ loop
    async def run_once(self) -> None:
        try:
            user_id = await self.user_id()
            while not self.stopping:
                if await self.hold_lease():
                    await self.poll_once(user_id)
                else:
                    self.set_state("standby", detail="another gateway process polls the mentions")
                await self._sleep(max(self.interval_s, self.min_interval_s))
        except AuthError as exc:
            self.record_error(exc, "auth")
            self.set_state("error", detail="X refused the bearer token: needs new credentials")
            log.error("twitter.poller.auth_failed", error=type(exc).__name__)
            with contextlib.suppress(Exception):
                await self.publish()
            await self._sleep(self.auth_retry_s)

    async def hold_lease(self) -> bool:
        """One poller per deployment: take or renew a lease in Redis (others stand by).

        Two pollers at once would only cost API calls (dedupe keeps the records single), so the
        lease is a courtesy to the rate limit, not a correctness lock.
        """
        ttl_ms = int(max(self.interval_s, self.min_interval_s) * 3000) + 30_000
        self.lease.ttl_ms = ttl_ms
        return await self.lease.hold()

    async def close(self) -> None:
        await self.lease.release()

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), timeout=max(0.0, seconds))

    async def user_id(self) -> str:
        """Our numeric id: settings, else looked up once by handle and kept in Redis."""
        if self.settings.twitter_user_id:
            return self.settings.twitter_user_id
        cached = await self.redis.get(USER_ID_KEY)
        if cached:
            return str(keys.text(cached))
        resp = await self._call(self.client.get_user, username=self.settings.twitter_handle)
        uid = str(((resp.json() or {}).get("data") or {}).get("id") or "")
        if not uid:
            raise InvalidRequest(f"no X user named {self.settings.twitter_handle}")
        await self.redis.set(USER_ID_KEY, uid)
        return uid

    # ------------------------------------------------------------------ one poll
    async def checkpoint(self) -> str | None:
        raw = await self.redis.get(CHECKPOINT_KEY)
        return keys.text(raw)

    async def poll_once(self, user_id: str) -> int:
        """Fetch every page newer than the checkpoint, store it, then advance; return new records."""
        t0 = time.perf_counter()
        try:
            return await self._poll(user_id, t0)
        except Exception as exc:
            status = UNAVAILABLE if isinstance(exc.__cause__, IntakeUnavailable) else UPSTREAM_ERROR
            self.ctx.ingest.log("twitter", status=status, started=t0, method="POLL", path="mentions",
                                error=f"{getattr(exc, 'error_kind', 'error')}: {type(exc).__name__}: {exc}"[:200])
            raise

    async def _poll(self, user_id: str, t0: float) -> int:
        max_pages = -(-self.reachable // self.page_size) + 1  # a safety stop, never reached normally
        since = await self.checkpoint()
        self.set_state("polling", since_id=since)
        messages: list[InboundMessage] = []
        skipped = 0
        newest: str | None = None
        token: str | None = None
        pages = 0
        while True:
            params: dict[str, Any] = dict(MENTION_PARAMS, max_results=self.page_size)
            if since:
                params["since_id"] = since
            elif self.settings.twitter_backfill_s:
                # first start: recent mentions only, not months of old tweets answered out of the blue
                params["start_time"] = datetime.fromtimestamp(time.time() - self.settings.twitter_backfill_s, UTC)
            if token:
                params["pagination_token"] = token
            resp = await self._call(self.client.get_users_mentions, user_id, **params)
            pages += 1
            doc = resp.json() or {}
            meta = doc.get("meta") or {}
            if pages == 1:
                newest = meta.get("newest_id")
            page_msgs, page_skipped = self._convert(doc, user_id)
            messages += page_msgs
            skipped += page_skipped
            token = meta.get("next_token")
            if not token:
                break
            if pages >= max_pages:
                log.warning("twitter.poller.page_cap", pages=pages)  # X still offering more: a gap
                break
        messages.sort(key=lambda m: int(m.native_id))  # oldest first: thread starts before continuations
        stored = dup = 0
        for i in range(0, len(messages), STORE_CHUNK):
            try:
                results = await self.ctx.ingest.store("twitter", messages[i:i + STORE_CHUNK], allow_spool=False)
            except IntakeUnavailable as exc:
                raise TransientError(f"intake unavailable: {exc}") from exc
            stored += sum(1 for r in results if r.status == "new")
            dup += sum(1 for r in results if r.duplicate)
        if _newer(newest, since):
            await self.redis.set(CHECKPOINT_KEY, str(newest))
            since = newest
        self.polls += 1
        if skipped:
            self.ctx.ingest.skipped("twitter", {"poll": skipped})
        self.ctx.ingest.log("twitter", status=OK, started=t0, method="POLL", path="mentions", stored=stored,
                            duplicates=dup, pages=pages)
        self.state.update(error_kind=None)
        self.set_state("ok", since_id=since, last_poll_at=time.time(), last_pages=pages, last_stored=stored,
                       last_duplicates=dup, polls=self.polls)
        log.info("twitter.poller.polled", pages=pages, stored=stored, duplicates=dup, skipped=skipped)
        return stored

    def _convert(self, doc: dict[str, Any], user_id: str) -> tuple[list[InboundMessage], int]:
        out: list[InboundMessage] = []
        skipped = 0
        includes = doc.get("includes") or {}
        for t in doc.get("data") or []:
            try:
                view = view_from_v2(t, includes)
            except InvalidEvent:
                skipped += 1
                log.warning("twitter.poller.invalid_tweet")
                continue
            if view.author_id == user_id or view.retweet:
                skipped += 1
                continue
            out.append(tweet_message(view, provider=PROVIDER_POLL, handle=self.settings.twitter_handle,
                                     raw=_dumps(t, includes)))
        return out, skipped

    # ------------------------------------------------------------------ one API call
    async def _call(self, fn: Callable[..., requests.Response], *args: Any, **kwargs: Any) -> requests.Response:
        """Run a tweepy call in a thread; sleep through 429s; classify every other failure."""
        while True:
            try:
                resp = await asyncio.to_thread(fn, *args, **kwargs)
            except tweepy.TooManyRequests as exc:
                await self._rate_limited(exc.reset_time)
                continue
            except (tweepy.Unauthorized, tweepy.Forbidden) as exc:
                raise AuthError(f"{exc.response.status_code} from X") from exc
            except tweepy.TwitterServerError as exc:
                raise TransientError(f"{exc.response.status_code} from X") from exc
            except tweepy.HTTPException as exc:
                raise InvalidRequest(f"{exc.response.status_code} from X") from exc
            except (requests.RequestException, ValueError) as exc:
                raise TransientError(f"X unreachable: {type(exc).__name__}") from exc
            self._note_limits(resp.headers)
            if resp.headers.get("x-rate-limit-remaining") == "0":
                await self._rate_limited(_int(resp.headers.get("x-rate-limit-reset")), exhausted=True)
            return resp

    def _note_limits(self, headers: Any) -> None:
        limit = _int(headers.get("x-rate-limit-limit"))
        if limit:
            self.min_interval_s = 900.0 / limit  # never poll faster than the window allows
            self.state.update(rate_limit=limit, rate_remaining=_int(headers.get("x-rate-limit-remaining")))

    async def _rate_limited(self, reset: int | None, exhausted: bool = False) -> None:
        wait = (reset - time.time() + 1) if reset else 60.0
        wait = min(max(wait, 1.0), self.max_rate_sleep_s)
        self.set_state("rate_limited", resume_at=time.time() + wait)
        metrics.count("twitter", "rate_limited")
        log.warning("twitter.poller.rate_limited", sleep_s=round(wait, 1), exhausted=exhausted)
        with contextlib.suppress(Exception):
            await self.publish()
        await self._sleep_keeping_lease(wait)

    async def _sleep_keeping_lease(self, seconds: float) -> None:
        """Sleep through a rate limit (up to 16 min) without letting the lease lapse: the limit is
        the app's, so a standby that took over would only poll into the same 429."""
        keeper = asyncio.create_task(self.lease.keep())  # ends by itself if another process holds it
        try:
            await self._sleep(seconds)
        finally:
            keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await keeper

def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _dumps(tweet: dict[str, Any], includes: dict[str, Any]) -> str:
    """The tweet with only the ``includes`` it references (the raw payload kept with the record)."""
    keys_ = set((tweet.get("attachments") or {}).get("media_keys") or [])
    place = (tweet.get("geo") or {}).get("place_id")
    mine = {
        "users": [u for u in includes.get("users") or [] if u.get("id") == tweet.get("author_id")],
        "media": [m for m in includes.get("media") or [] if m.get("media_key") in keys_],
        "places": [p for p in includes.get("places") or [] if place and p.get("id") == place],
    }
    return orjson.dumps({"data": tweet, "includes": {k: v for k, v in mine.items() if v}}).decode()
