"""Outbound acknowledgements: a queue separate from intake, one sender per channel.

The dispatcher adds an acknowledgement in the same transaction that puts the record into the
core queue, so every record gets exactly one. Senders run in worker processes, never on the
intake path; failures are retried with exponential backoff, then dead-lettered; a destination
that floods us gets at most ``ack_rate_per_minute`` answers (the rest are suppressed, counted).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import redis.asyncio as aioredis

from channels.core.outbound import (
    CallRecorder,
    ManagedSender,
    OutboundMessage,
    PermanentSendError,
    Sender,
    SendError,
    SendResult,
)
from channels.core.reference import ack_text, reference
from dispatcher.delivery import StatusEngine, now_iso
from dispatcher.pacing import ChannelPace
from gateway import keys, metrics
from gateway.channel_log import ChannelLog
from gateway.logging import get_logger, scrub
from gateway.redis_clients import ensure_group

log = get_logger("dispatcher.outbound")


def ack_for(record: dict[str, Any]) -> OutboundMessage | None:
    """The acknowledgement of a record, or None when the citizen cannot be answered."""
    reply_to = record.get("reply_to")
    if not reply_to:
        return None
    ref = reference(record["id"])
    ack = OutboundMessage(
        channel=reply_to["channel"], address=reply_to["address"], thread=reply_to.get("thread"),
        private=bool(reply_to.get("private", True)), text=ack_text(ref, short=record["channel"] == "sms"),
        record_id=record["id"], reference=ref, provider=record["source"]["provider"],
        anonymous=record["anonymous"], confidential=record["confidential"],
        meta={"outbound_id": f"ack-{record['id']}",  # statuses report under it; Kannel's dlr-url carries it
              "source_channel": record["channel"], "message_ids": record["source"]["message_ids"],
              "recipient": record["source"].get("recipient"), "flags": record["flags"],
              "sent_at": record["source"].get("sent_at")},
    )

    # a follow-up's ack can name the complaint it was added to (conversation channels)
    ack.meta["in_reply_to"] = (record.get("conversation") or {}).get("in_reply_to")
    return ack


def enqueue_in(pipe: Any, msg: OutboundMessage) -> None:
    pipe.xadd(keys.OUTBOUND_STREAM, {"m": msg.dumps()})


class OutboundWorker:
    """Consumes ``lapor:outbound`` and hands each message to the sender of its channel.

    The worker owns its senders' lifetime: it attaches the channel log to every sender that
    takes one (so each provider call is visible to admins) and closes them all when it stops.
    """

    def __init__(self, r: aioredis.Redis, senders: dict[str, Sender], consumer: str, *,
                 max_attempts: int = 8, backoff_s: float = 5.0, rate_per_minute: int = 6,
                 call_log: CallRecorder | None = None, engine: StatusEngine | None = None,
                 pace: ChannelPace | None = None) -> None:
        self.redis = r
        # where the acknowledgements' statuses go (``ack-<record id>``); None: not reported
        self.engine = engine
        self.pace = pace  # LAPOR_OUTBOUND_RATES (the core-message worker's, shared in one process)
        self.senders = senders
        # the gateway's channel log, flushed by this worker unless the caller brings its own recorder
        self._own_log: ChannelLog | None = None
        if call_log is None:
            call_log = self._own_log = ChannelLog(r)
        self.call_log: CallRecorder = call_log
        self.consumer = consumer
        self.max_attempts = max_attempts
        self.backoff_s = backoff_s
        self.rate_per_minute = rate_per_minute
        self._stop = asyncio.Event()

    def stop(self) -> None:
        self._stop.set()

    async def ensure_group(self) -> None:
        await ensure_group(self.redis, keys.OUTBOUND_STREAM, keys.OUTBOUND_GROUP)

    def _managed(self) -> list[ManagedSender]:
        """Each sender once (one object may serve several channels, e.g. facebook and instagram)."""
        unique = {id(s): s for s in self.senders.values()}
        return [s for s in unique.values() if isinstance(s, ManagedSender)]

    async def close(self) -> None:
        """Close every sender (HTTP sessions, Redis clients) and flush the channel log."""
        for sender in self._managed():
            try:
                await sender.close()
            except Exception as exc:
                log.warning("outbound.sender_close_failed", error=type(exc).__name__)
        if self._own_log is not None:
            await self._own_log.close()

    async def run(self) -> None:
        for sender in self._managed():
            sender.attach(self.call_log)
        if self._own_log is not None:
            await self._own_log.start()
        try:
            await self._run()
        finally:
            await self.close()

    async def _run(self) -> None:
        await self.ensure_group()
        last_claim = 0.0
        while not self._stop.is_set():
            try:
                await self._promote_due()
                entries: Any = []
                if time.monotonic() - last_claim > 5:
                    last_claim = time.monotonic()
                    claimed = await self.redis.xautoclaim(keys.OUTBOUND_STREAM, keys.OUTBOUND_GROUP,
                                                          self.consumer, min_idle_time=60_000, count=50)
                    entries = list(claimed[1])
                if not entries:
                    resp: Any = await self.redis.xreadgroup(keys.OUTBOUND_GROUP, self.consumer,
                                                       {keys.OUTBOUND_STREAM: ">"}, count=50, block=500)
                    entries = [e for _s, es in resp for e in es] if resp else []
                if entries:
                    await asyncio.gather(*(self._handle(eid, fields) for eid, fields in entries if fields))
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("outbound.loop_error", error=type(exc).__name__)
                await asyncio.sleep(1)

    async def _promote_due(self) -> None:
        """Move retries whose time has come back onto the stream."""
        now = time.time()
        due: Any = await self.redis.zrangebyscore(keys.OUTBOUND_RETRY, 0, now, start=0, num=100)
        for raw in due:
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.zrem(keys.OUTBOUND_RETRY, raw)
                pipe.xadd(keys.OUTBOUND_STREAM, {"m": raw})
                await pipe.execute()

    async def _handle(self, entry_id: bytes, fields: dict[bytes, bytes]) -> None:
        if b"m" not in fields and b"o" in fields:  # a core message: dispatcher/outbound_worker.py sends it
            await self.redis.xack(keys.OUTBOUND_STREAM, keys.OUTBOUND_GROUP, entry_id)
            return
        try:
            msg = OutboundMessage.loads(fields[b"m"])
        except Exception:
            await self._dead(entry_id, fields.get(b"m", b""), "unreadable outbound entry")
            return
        sender = self.senders.get(msg.channel)
        if sender is None:
            await self._dead(entry_id, msg.dumps(), f"no sender registered for channel {msg.channel}", msg)
            return
        if msg.attempts == 0 and msg.kind == "ack" and not await self._within_rate(msg):
            metrics.ACKS.labels(msg.channel, "suppressed").inc()
            await self._status(msg, "failed", error={"code": "rate_limited", "detail": "acknowledgement suppressed"})
            await self.redis.xack(keys.OUTBOUND_STREAM, keys.OUTBOUND_GROUP, entry_id)
            return
        if self.pace is not None:
            await self.pace.wait(msg.channel)
        try:
            result = await sender(msg) or SendResult()
        except PermanentSendError as exc:
            await self._status(msg, "failed", error={"code": exc.delivery_code, "detail": exc.reason[:500]})
            await self._dead(entry_id, msg.dumps(), f"permanent: {exc}", msg)
            return
        except Exception as exc:
            if msg.kind == "question":  # not retried: its record goes at once, with the plain acknowledgement
                code = exc.delivery_code if isinstance(exc, SendError) else "provider_error"
                await self._status(msg, "failed", error={"code": code, "detail": f"question not sent, record "
                                                         f"released: {type(exc).__name__}"})
                await self._dead(entry_id, msg.dumps(), f"question not sent, record released: {exc}", msg)
                return
            msg.attempts += 1
            if msg.attempts >= self.max_attempts:
                code = exc.delivery_code if isinstance(exc, SendError) else "provider_error"
                await self._status(msg, "failed", error={"code": code, "detail": f"gave up after {msg.attempts} "
                                                         f"attempts: {type(exc).__name__}"})
                await self._dead(entry_id, msg.dumps(), f"gave up after {msg.attempts} attempts: {exc}")
                return
            retry_after = getattr(exc, "retry_after", None)
            delay = retry_after if retry_after is not None else self.backoff_s * (2 ** (msg.attempts - 1))
            metrics.ACKS.labels(msg.channel, "retry").inc()
            log.info("outbound.retry", channel=msg.channel, attempts=msg.attempts, delay_s=round(delay, 1),
                     error=type(exc).__name__)
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.zadd(keys.OUTBOUND_RETRY, {msg.dumps(): time.time() + delay})
                pipe.xack(keys.OUTBOUND_STREAM, keys.OUTBOUND_GROUP, entry_id)
                await pipe.execute()
            return
        metrics.ACKS.labels(msg.channel, "sent").inc()
        if result.provider_message_ids:
            log.debug("outbound.sent", channel=msg.channel, parts=result.parts,
                      provider_ids=len(result.provider_message_ids))
        if not result.skipped:
            await self._status(msg, "sent", result=result)
        await self.redis.xack(keys.OUTBOUND_STREAM, keys.OUTBOUND_GROUP, entry_id)

    async def _status(self, msg: OutboundMessage, status: str, *, result: SendResult | None = None,
                      error: dict[str, Any] | None = None) -> None:
        """Report the acknowledgement's status (``ack-<record id>``); ``sent`` indexes the provider's
        ids in the same step. A status that cannot be recorded is logged, never a reason to resend."""
        if self.engine is None or not msg.record_id:
            return
        oid = str(msg.meta.get("outbound_id") or f"ack-{msg.record_id}")
        try:
            if result is None:
                await self.engine.report(oid, status, now_iso(), error=error, channel=msg.channel)
                return
            ids = [str(p) for p in result.provider_message_ids]
            also = self.engine.provider_index_commands(
                oid, msg.channel, ids, address=msg.address if msg.channel in ("facebook", "instagram") else None)
            await self.engine.report(oid, status, now_iso(), provider_ids=ids, parts=result.parts or None,
                                     truncated=result.truncated, public_notice=result.public_notice,
                                     channel=msg.channel, also=also)
        except Exception as exc:
            log.warning("outbound.status_failed", status=status, error=type(exc).__name__)

    async def _within_rate(self, msg: OutboundMessage) -> bool:
        key = keys.rate(msg.channel, msg.address) + f":{int(time.time() // 60)}"
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.incr(key)
            pipe.expire(key, 120)
            n, _ = await pipe.execute()
        return int(n) <= self.rate_per_minute

    async def _dead(self, entry_id: bytes, raw: bytes, error: str, msg: OutboundMessage | None = None) -> None:
        if msg is not None and msg.kind == "question":
            # a question that does not reach the citizen is not worth holding the complaint for
            from dispatcher.conversation import question_failed  # conversation builds on this module

            await question_failed(self.redis, msg)
        metrics.ACKS.labels("any", "dead").inc()
        log.warning("outbound.dead_letter", error=error)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.xadd(keys.OUTBOUND_DEAD, {"m": raw, "error": scrub(error[:2000])[:1000], "at": str(time.time())},
                      maxlen=100_000, approximate=True)
            pipe.xack(keys.OUTBOUND_STREAM, keys.OUTBOUND_GROUP, entry_id)
            await pipe.execute()
