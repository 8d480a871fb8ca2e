"""Outbound acknowledgements: a queue separate from intake, one sender per channel.

The dispatcher adds an acknowledgement in the same transaction that puts the record into the
core queue, so every record gets exactly one. Senders run in worker processes, never on the
intake path; failures are retried with exponential backoff, then dead-lettered; a destination
that floods us gets at most ``ack_rate_per_minute`` answers (the rest are suppressed, counted).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
import redis.asyncio as aioredis

from dispatcher.reference import ack_text, reference
from gateway import keys, metrics
from gateway.logging import get_logger

log = get_logger("dispatcher.outbound")


class TransientSendError(Exception):
    """Try again later (network, 5xx, rate limit). ``retry_after`` overrides the backoff."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class PermanentSendError(Exception):
    """Will never succeed (invalid address, blocked, credentials revoked)."""


@dataclass
class OutboundMessage:
    """One message to a citizen: an acknowledgement of a record, or a reply such as help text."""

    channel: str  # reply_to.channel: sms, twitter, facebook, instagram, telegram, email
    address: str
    text: str
    kind: str = "ack"  # ack | reply
    record_id: str | None = None
    reference: str | None = None
    provider: str | None = None
    thread: str | None = None
    private: bool = True
    anonymous: bool = False
    confidential: bool = False
    meta: dict[str, Any] = field(default_factory=dict)
    attempts: int = 0

    def dumps(self) -> bytes:
        return orjson.dumps(self.__dict__)

    @classmethod
    def loads(cls, raw: bytes | str) -> OutboundMessage:
        return cls(**orjson.loads(raw))


AckSender = Callable[[OutboundMessage], Awaitable[None]]


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
        meta={"source_channel": record["channel"], "message_ids": record["source"]["message_ids"],
              "recipient": record["source"].get("recipient"), "flags": record["flags"],
              "sent_at": record["source"].get("sent_at")},
    )

    # a follow-up's ack can name the complaint it was added to (conversation channels)
    ack.meta["in_reply_to"] = (record.get("conversation") or {}).get("in_reply_to")
    return ack


def enqueue_in(pipe: Any, msg: OutboundMessage) -> None:
    pipe.xadd(keys.OUTBOUND_STREAM, {"m": msg.dumps()})


class OutboundWorker:
    """Consumes ``lapor:outbound`` and hands each message to the sender of its channel."""

    def __init__(self, r: aioredis.Redis, senders: dict[str, AckSender], consumer: str, *,
                 max_attempts: int = 8, backoff_s: float = 5.0, rate_per_minute: int = 6) -> None:
        self.redis = r
        self.senders = senders
        self.consumer = consumer
        self.max_attempts = max_attempts
        self.backoff_s = backoff_s
        self.rate_per_minute = rate_per_minute
        self._stop = asyncio.Event()

    def stop(self) -> None:
        self._stop.set()

    async def ensure_group(self) -> None:
        try:
            await self.redis.xgroup_create(keys.OUTBOUND_STREAM, keys.OUTBOUND_GROUP, id="0", mkstream=True)
        except aioredis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    async def run(self) -> None:
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
            await self._dead(entry_id, msg.dumps(), f"no sender registered for channel {msg.channel}")
            return
        if msg.attempts == 0 and msg.kind == "ack" and not await self._within_rate(msg):
            metrics.ACKS.labels(msg.channel, "suppressed").inc()
            await self.redis.xack(keys.OUTBOUND_STREAM, keys.OUTBOUND_GROUP, entry_id)
            return
        try:
            await sender(msg)
        except PermanentSendError as exc:
            await self._dead(entry_id, msg.dumps(), f"permanent: {exc}")
            return
        except Exception as exc:
            msg.attempts += 1
            if msg.attempts >= self.max_attempts:
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
        await self.redis.xack(keys.OUTBOUND_STREAM, keys.OUTBOUND_GROUP, entry_id)

    async def _within_rate(self, msg: OutboundMessage) -> bool:
        key = keys.rate(msg.channel, msg.address) + f":{int(time.time() // 60)}"
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.incr(key)
            pipe.expire(key, 120)
            n, _ = await pipe.execute()
        return int(n) <= self.rate_per_minute

    async def _dead(self, entry_id: bytes, raw: bytes, error: str) -> None:
        metrics.ACKS.labels("any", "dead").inc()
        log.warning("outbound.dead_letter", error=error)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.xadd(keys.OUTBOUND_DEAD, {"m": raw, "error": error[:1000], "at": str(time.time())},
                      maxlen=100_000, approximate=True)
            pipe.xack(keys.OUTBOUND_STREAM, keys.OUTBOUND_GROUP, entry_id)
            await pipe.execute()
