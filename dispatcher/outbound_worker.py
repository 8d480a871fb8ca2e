"""Sends the core's messages to citizens: ``lapor:outbound`` (entries with ``o``) → channel sender.

Its own consumer group (``outbound-senders``) on the stream acknowledgements also use; entries
that are acknowledgements (``m``) are someone else's and only acknowledged here. For each
message: the route (the message's ``reply_to`` or the one kept for its record), the send policy
(``outbound_policy``: privacy, window, per-citizen cap, fitting), the channel's sender, and the
statuses through the delivery engine (``sent`` with the provider ids, or ``failed`` with the
contract's error code). Transient failures wait in ``lapor:outbound:later`` with exponential
backoff and jitter; after ``LAPOR_MAX_ATTEMPTS`` the message is a dead letter in
``lapor:outbound:dead`` and ``failed``. Messages waiting for the per-citizen cap wait in the
same set: none is dropped. Within a read batch questions and answers go before status notices.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
import redis.asyncio as aioredis

from channels.core.outbound import OutboundMessage, PermanentSendError, SendResult
from channels.core.reference import reference
from config.settings import Settings
from dispatcher import outbound_keys as ok
from dispatcher import outbound_policy as policy
from dispatcher import send_once
from dispatcher.conversation import expect_in  # [replies]
from dispatcher.delivery import StatusEngine, now_iso, status_queue
from dispatcher.pacing import ChannelPace
from dispatcher.routes import Route
from gateway import keys
from gateway.logging import get_logger
from gateway.redis_clients import ensure_group

log = get_logger("dispatcher.outbound_worker")

DONE = {"sent", "delivered", "read", "failed"}
WATERMARK_CHANNELS = ("facebook", "instagram")  # receipts that say "everything up to <time>"
_PROMOTE = ("if redis.call('ZREM', KEYS[1], ARGV[1]) == 1 then "
            "redis.call('XADD', KEYS[2], '*', 'o', ARGV[1]) end return 1")


@dataclass
class _Job:
    entry_id: bytes
    outbound_id: str
    msg: dict[str, str]
    doc: dict[str, Any]
    route: Route | None = None  # read with the batch (``process``)

    @property
    def priority(self) -> int:
        return policy.priority(self.doc.get("kind", "notice"))


class Failed(Exception):
    """The message will not be sent: ``code`` is the contract's error code; ``dead``: keep it in
    the dead letters for an admin (replayable)."""

    def __init__(self, code: str, detail: str | None = None, *, dead: bool = False) -> None:
        super().__init__(detail or code)
        self.code, self.detail, self.dead = code, detail, dead


async def call_sender(sender: Any, msg: OutboundMessage) -> SendResult:
    """One provider call through the channel's sender (``channels.core.send``); a plain function
    that returns nothing counts as an empty result. The only place that knows how a sender is called."""
    result = await sender(msg)
    return result if isinstance(result, SendResult) else SendResult()


def _s(v: Any) -> str:
    return v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v)


class CoreMessageWorker:
    def __init__(self, r: aioredis.Redis, settings: Settings, senders: dict[str, Any], consumer: str, *,
                 core_redis: aioredis.Redis | None = None, batch: int = 50) -> None:
        self.redis = r
        self.core_redis = core_redis if core_redis is not None and core_redis is not r else None
        self.settings = settings
        self.senders = senders
        self.consumer = consumer
        self.batch = batch
        self.engine = StatusEngine(r, status_queue(settings), settings.route_ttl_days * 86400,
                                   outbox=self.core_redis is not None)
        self.pace = ChannelPace(settings)
        self._stop = asyncio.Event()

    def stop(self) -> None:
        self._stop.set()

    async def ensure_group(self) -> None:
        await ensure_group(self.redis, ok.OUTBOUND_STREAM, ok.SEND_GROUP)

    async def run(self) -> None:
        last_claim = 0.0
        need_group = True  # at start and after any failure (a restarted Redis may have lost it), not per batch
        while not self._stop.is_set():
            try:
                if need_group:
                    await self.ensure_group()
                    need_group = False
                await self.promote_due()
                if self.core_redis is not None:
                    while await self.engine.flush_outbox(self.core_redis):
                        pass
                entries: Any = []
                if time.monotonic() - last_claim > 5:
                    last_claim = time.monotonic()
                    claimed: Any = await self.redis.xautoclaim(ok.OUTBOUND_STREAM, ok.SEND_GROUP, self.consumer,
                                                               min_idle_time=self.settings.claim_idle_ms,
                                                               count=self.batch)
                    entries = [e for e in claimed[1] if e and e[1]]
                if not entries:
                    resp: Any = await self.redis.xreadgroup(ok.SEND_GROUP, self.consumer, {ok.OUTBOUND_STREAM: ">"},
                                                            count=self.batch, block=300)
                    entries = [e for _s, es in resp for e in es] if resp else []
                if entries:
                    await self.process(entries)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                need_group = True
                log.warning("outbound_worker.loop_error", error=type(exc).__name__)
                await asyncio.sleep(0.5)

    async def promote_due(self) -> None:
        """Messages whose wait (retry backoff, per-citizen cap) is over go back on the stream."""
        due: Any = await self.redis.zrangebyscore(ok.LATER, 0, time.time(), start=0, num=100)
        for oid in due:  # only the worker whose ZREM removed it puts it back (no double send)
            await self.redis.eval(_PROMOTE, 2, ok.LATER, ok.OUTBOUND_STREAM, oid)

    async def process(self, entries: list[Any]) -> None:
        """One read batch: the message hashes and then the routes of all its entries in one
        pipelined round trip each, the entries that are not ours (or done) acknowledged together."""
        ours = [(entry_id, _s(fields[b"o"])) for entry_id, fields in entries if fields and b"o" in fields]
        ack = [entry_id for entry_id, fields in entries if not (fields and b"o" in fields)]  # acks ("m")
        async with self.redis.pipeline(transaction=False) as pipe:
            for _, oid in ours:
                pipe.hgetall(ok.message(oid))
            hashes: list[Any] = await pipe.execute() if ours else []
        jobs: list[_Job] = []
        for (entry_id, oid), raw in zip(ours, hashes, strict=True):
            msg = {_s(k): _s(v) for k, v in raw.items()}
            if not msg or msg.get("status") in DONE:  # expired, or done already (a redelivered entry)
                ack.append(entry_id)
                continue
            jobs.append(_Job(entry_id, oid, msg, orjson.loads(msg["doc"])))
        if ack:
            await self.redis.xack(ok.OUTBOUND_STREAM, ok.SEND_GROUP, *ack)
        if jobs:  # a route does not change while sending: read them all at once
            async with self.redis.pipeline(transaction=False) as pipe:
                for j in jobs:
                    pipe.get(ok.route(j.doc["record_id"]))
                for j, raw_route in zip(jobs, await pipe.execute(), strict=True):
                    j.route = None if raw_route is None else Route.from_json(raw_route)
        jobs.sort(key=lambda j: j.priority)  # questions and answers first (stable: stream order within)
        for prio in sorted({j.priority for j in jobs}):
            # one record's messages go out one after the other, in stream order; records in parallel
            by_record: dict[str, list[_Job]] = {}
            for j in jobs:
                if j.priority == prio:
                    by_record.setdefault(j.doc["record_id"], []).append(j)
            await asyncio.gather(*(self._handle_in_order(group) for group in by_record.values()))

    async def _handle_in_order(self, group: list[_Job]) -> None:
        for job in group:
            await self.handle(job)

    # ------------------------------------------------------------------ one message
    async def handle(self, job: _Job) -> None:
        try:
            await self._send(job)
        except Failed as exc:
            await self._fail(job, exc.code, exc.detail, dead=exc.dead)
        except PermanentSendError as exc:  # the sender's code: window_closed, no_private_route, undeliverable…
            await self._fail(job, exc.delivery_code, str(exc)[:500], dead=True)
        except _Later:
            pass
        except Exception as exc:
            await self._retry(job, exc)

    async def _send(self, job: _Job) -> None:
        doc, oid = job.doc, job.outbound_id
        now = time.time()
        not_after = doc.get("not_after")
        if not_after and datetime.fromisoformat(not_after.replace("Z", "+00:00")).timestamp() < now:
            raise Failed("expired", "not_after has passed")
        route = job.route
        reply_to = doc.get("reply_to") or (route.reply_to if route else None)
        if not reply_to:
            raise Failed("no_route", "the record has no reply_to")
        channel = reply_to["channel"]
        sender = self.senders.get(channel)
        if sender is None:
            raise Failed("channel_disabled", f"no sender for channel {channel}")
        ref = reference(doc["record_id"])
        decision = policy.privacy(private_route=bool(reply_to.get("private")),
                                  confidential=bool(route and route.confidential),
                                  anonymous=bool(route and route.anonymous), channel=channel)
        if decision.error:
            raise Failed(decision.error, "the record is confidential/anonymous and its route is public")
        text = doc["text"] if decision.send_text else policy.public_notice_text(
            self.settings.public_notice_text, ref)
        hour = int(now // 3600)
        cap_key = ok.citizen_cap(channel, reply_to["address"], hour)
        async with self.redis.pipeline(transaction=False) as pipe:  # read just before sending (cap order)
            pipe.get(ok.last_seen(channel, reply_to["address"]))
            pipe.get(cap_key)
            raw_seen, raw_cap = await pipe.execute()
        win = policy.window(channel, last_seen=None if raw_seen is None else float(raw_seen), now=now,
                            human_agent=self.settings.meta_human_agent)
        if not win.ok:
            raise Failed(win.error or "window_closed", "outside the messaging window")
        sent_this_hour = int(raw_cap or 0)
        wait_until = policy.cap_wait(sent_this_hour, self.settings.outbound_per_citizen_per_hour, now)
        if wait_until is not None:
            await self._later(job, wait_until)
            raise _Later()
        fitted = policy.fit(channel, text, ref, sms_max_parts=self.settings.sms_max_parts)
        done = int(job.msg.get("chunks_done") or 0)  # chunks sent by an earlier attempt are not resent
        provider_ids: list[str] = orjson.loads(job.msg.get("provider_ids_partial") or "[]")
        said: dict[str, int] = orjson.loads(job.msg.get("result_partial") or "{}")
        parts_known = done > 0
        for i, chunk in enumerate(fitted.chunks):
            if i < done:
                continue
            out = self._message(doc, route, reply_to, chunk, ref, win)
            if decision.to_author:  # never in public: the sender writes to the author privately or fails
                out.meta["dm_author"] = True
            await self.pace.wait(channel)  # LAPOR_OUTBOUND_RATES
            # --- twoway-ops: the "sending" marker around the provider call (dispatcher/send_once.py)
            if job.msg.get(send_once.SENDING) == str(i) and \
                    send_once.after_crash(bool(reply_to.get("private"))) == "hold":
                raise Failed("provider_error", send_once.UNKNOWN_OUTCOME, dead=True)
            marker: Any = {send_once.SENDING: i}
            if not parts_known:  # known before the first call: a part's receipt may come back before ``sent``
                marker["parts"] = fitted.parts
                parts_known = True
            await self.redis.hset(ok.message(oid), mapping=marker)  # with the marker: one round trip
            try:
                result = await call_sender(sender, out)
            except Exception:  # the provider answered or the connection failed: an ordinary retry, no crash
                await self.redis.hdel(ok.message(oid), send_once.SENDING)
                raise
            # --- end twoway-ops
            provider_ids += [str(p) for p in result.provider_message_ids]
            said["parts"] = said.get("parts", 0) + (result.parts or 0)
            said["truncated"] = said.get("truncated", 0) | int(result.truncated)
            said["public_notice"] = said.get("public_notice", 0) | int(result.public_notice)
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.hset(ok.message(oid), mapping={"chunks_done": i + 1,
                                                     "provider_ids_partial": orjson.dumps(provider_ids),
                                                     "result_partial": orjson.dumps(said)})
                pipe.hdel(ok.message(oid), send_once.SENDING)
                if i == 0:  # one message counts once against the per-citizen cap
                    pipe.incr(cap_key)
                    pipe.expire(cap_key, 7200)
                await pipe.execute()
        parts = said.get("parts") or (max(fitted.parts, len(provider_ids)) if channel == "sms"
                                      else len(fitted.chunks))
        truncated = fitted.truncated or bool(said.get("truncated"))
        public_notice = decision.public_notice or bool(said.get("public_notice"))
        # the provider ids (and, for watermark receipts, the recipient's) are indexed in the
        # same atomic step that records ``sent``; the entry is acknowledged after it
        also = self.engine.provider_index_commands(oid, channel, provider_ids, address=reply_to["address"]
                                                   if channel in WATERMARK_CHANNELS else None, sent_at=now)
        if doc.get("expects_reply"):  # [replies] the citizen's next message links to it (conversation.py);
            async with self.redis.pipeline(transaction=True) as pipe:  # idempotent, before the entry's XACK
                expect_in(pipe, channel, reply_to["address"], doc["record_id"], oid,
                          self.settings.reply_window_h * 3600)
                await pipe.execute()
        await self.engine.report(oid, "sent", now_iso(), provider_ids=provider_ids, parts=parts,
                                 truncated=truncated, public_notice=public_notice, also=also)
        await self.redis.xack(ok.OUTBOUND_STREAM, ok.SEND_GROUP, job.entry_id)
        log.info("outbound_worker.sent", outbound=oid, channel=channel, parts=parts, truncated=truncated,
                 public_notice=public_notice)

    def _message(self, doc: dict[str, Any], route: Route | None, reply_to: dict[str, Any], text: str, ref: str,
                 win: policy.Window) -> OutboundMessage:
        meta: dict[str, Any] = {"outbound_id": doc["id"], "outbound_kind": doc["kind"]}
        if route is not None:
            meta.update(source_channel=route.channel, message_ids=route.message_ids, recipient=route.recipient)
        if win.tag:
            meta["tag"] = win.tag
        if win.template:
            meta["template"] = True
        return OutboundMessage(channel=reply_to["channel"], address=reply_to["address"], text=text, kind="reply",
                               record_id=doc["record_id"], reference=ref,
                               provider=route.provider if route else None, thread=reply_to.get("thread"),
                               private=bool(reply_to.get("private")),
                               anonymous=bool(route and route.anonymous),
                               confidential=bool(route and route.confidential), meta=meta)

    # ------------------------------------------------------------------ outcomes
    async def _later(self, job: _Job, at: float) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.zadd(ok.LATER, {job.outbound_id: at})
            pipe.xack(ok.OUTBOUND_STREAM, ok.SEND_GROUP, job.entry_id)
            await pipe.execute()

    async def _retry(self, job: _Job, exc: Exception) -> None:
        attempts = int(await self.redis.hincrby(ok.message(job.outbound_id), "attempts", 1))
        if attempts >= self.settings.max_attempts:
            await self._fail(job, "provider_error", f"gave up after {attempts} attempts: {type(exc).__name__}",
                             dead=True)
            return
        retry_after = getattr(exc, "retry_after", None)
        base = self.settings.ack_backoff_s * (2 ** (attempts - 1))
        delay = retry_after if retry_after is not None else base * random.uniform(0.5, 1.5)  # jitter
        log.info("outbound_worker.retry", outbound=job.outbound_id, attempts=attempts, delay_s=round(delay, 2),
                 error=type(exc).__name__)
        await self._later(job, time.time() + delay)

    async def _fail(self, job: _Job, code: str, detail: str | None, *, dead: bool) -> None:
        if dead:
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.xadd(keys.OUTBOUND_DEAD, {"o": job.outbound_id, "error": (detail or code)[:1000],
                                               "at": datetime.now(UTC).isoformat()},
                          maxlen=100_000, approximate=True)
                await pipe.execute()
        await self.engine.report(job.outbound_id, "failed", now_iso(), error={"code": code, "detail": detail})
        await self.redis.xack(ok.OUTBOUND_STREAM, ok.SEND_GROUP, job.entry_id)
        log.warning("outbound_worker.failed", outbound=job.outbound_id, code=code, dead=dead)


class _Later(Exception):
    """The message waits (per-citizen cap); nothing else to do now."""
