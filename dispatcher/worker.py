"""Dispatcher worker: ``lapor:inbound`` → normalizer → core RQ queue, exactly once.

Reads in batches with ``XREADGROUP``, reclaims a dead worker's entries with ``XAUTOCLAIM``,
and commits each batch in one transaction (core jobs + exactly-once markers + acknowledgements
+ ``XACK``). A message that fails ``max_attempts`` times — by raising, or by killing the worker
that was processing it — moves to ``lapor:dead`` with its error.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import socket
import time
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import redis.asyncio as aioredis
import redis.exceptions

from channels.core.hooks import Decision, Emit, Preprocessor, prepare_each
from channels.core.outbound import OutboundMessage
from config.settings import Settings
from dispatcher import core_queue, dead, outbound, routes
from dispatcher.conversation import Conversations, Item
from dispatcher.enrich import Enricher, default_enrichers
from dispatcher.heartbeat import HEARTBEAT_S, WORKER_ALIVE_S
from gateway import keys, metrics
from gateway.logging import get_logger
from gateway.redis_clients import ensure_group
from normalizer.context import NormalizeContext
from normalizer.contract import validate_record
from normalizer.models import InboundMessage, Sender
from normalizer.normalize import record_json

_WARM_UP_TEXT = ("Selamat pagi, nama saya Budi Santoso, warga Jl. Melati No. 12 RT 03/RW 05 Kelurahan Sukajadi, "
                 "Kota Bandung. Jalan di depan SDN 2 rusak berat sejak Januari dan belum diperbaiki, mohon "
                 "ditindaklanjuti. Hubungi saya di 081234567890. Terima kasih.")
log = get_logger("dispatcher.worker")
# Redis itself refusing (down, restarting, full at maxmemory, a replica after a failover): the
# batch is not at fault, so it is retried as it is rather than counted against its entries
REDIS_REFUSED: tuple[type[BaseException], ...] = (
    aioredis.ConnectionError, aioredis.TimeoutError, OSError, redis.exceptions.OutOfMemoryError,
    redis.exceptions.ReadOnlyError,
)
HOLD_MAX_S = 5.0  # longest wait between two tries of a held batch

__all__ = ["HEARTBEAT_S", "WORKER_ALIVE_S", "DispatchWorker", "consumer_name"]


def consumer_name() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{os.urandom(3).hex()}"


@dataclass
class _Entry:
    entry_id: str
    record_id: str
    raw: bytes
    msg: InboundMessage | None
    deliveries: int = 1


class DispatchWorker:
    def __init__(self, r: aioredis.Redis, settings: Settings, *, core_redis: aioredis.Redis | None = None,
                 preprocessors: list[Preprocessor] | None = None, consumer: str | None = None,
                 enrichers: list[Enricher] | None = None, reply_channels: Collection[str] | None = None) -> None:
        """``reply_channels``: the channels with a registered sender (None: every channel); only those
        get a completeness question, so only their complaints are ever held."""
        self.redis = r
        self.core_redis = core_redis or r
        self.settings = settings
        self.consumer = consumer or consumer_name()
        self.core = core_queue.CoreQueue(settings.core_queue, settings.core_func,
                                         compress=settings.core_job_compress)
        self.preprocessors = preprocessors or []
        self.enrichers = default_enrichers(settings) if enrichers is None else enrichers
        self._stop = asyncio.Event()
        self.processed = 0
        # replies, hold-and-ask (dispatcher/conversation.py)
        self.conversations = Conversations(r, settings, reply_channels)

    def stop(self) -> None:
        self._stop.set()

    async def ensure_group(self) -> None:
        await ensure_group(self.redis, keys.INBOUND_STREAM, keys.DISPATCH_GROUP)

    # ------------------------------------------------------------------ main loop
    async def run(self) -> None:
        hb = asyncio.create_task(self._heartbeat(), name="worker-heartbeat")
        last_claim = last_sweep = last_trim = 0.0
        claim_every = max(0.05, self.settings.claim_idle_ms / 2000)
        # at start, and after a failure (a restarted Redis may have lost the group: NOGROUP); inside
        # the retry loop, so a worker started while Redis is down or full waits instead of dying
        need_group = True
        try:
            while not self._stop.is_set():
                try:
                    if need_group:
                        await self.ensure_group()
                        need_group = False
                    now = time.monotonic()
                    if now - last_claim >= claim_every:
                        last_claim = now
                        await self._reclaim()
                    if now - last_trim >= 60:
                        last_trim = now
                        await self.trim()
                    if now - last_sweep >= 1.0:
                        last_sweep = now
                        await self._sweep()
                    resp: Any = await self.redis.xreadgroup(
                        keys.DISPATCH_GROUP, self.consumer, {keys.INBOUND_STREAM: ">"},
                        count=self.settings.dispatch_batch, block=500)
                    if resp:
                        entries = [self._decode(eid, f) for _s, es in resp for eid, f in es]
                        await self.process_held(entries)
                except asyncio.CancelledError:
                    raise
                except REDIS_REFUSED as exc:
                    need_group = True
                    log.warning("dispatcher.redis_unavailable", error=type(exc).__name__)
                    await asyncio.sleep(0.5)
                except Exception as exc:
                    need_group = True
                    log.exception("dispatcher.loop_error", error=type(exc).__name__)
                    await asyncio.sleep(0.5)
        finally:
            hb.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await hb
            with contextlib.suppress(Exception):
                await self.redis.zrem(keys.WORKERS, self.consumer)

    async def trim(self) -> None:
        """Drop stream entries older than the retention, never one that is pending or unread."""
        cutoff_ms = int((time.time() - self.settings.stream_retention_s) * 1000)
        limit = f"{cutoff_ms}-0"
        summary = await self.redis.xpending(keys.INBOUND_STREAM, keys.DISPATCH_GROUP)
        if summary and summary.get("min"):
            oldest = summary["min"].decode() if isinstance(summary["min"], bytes) else summary["min"]
            limit = min(limit, oldest, key=_id_key)
        for g in await self.redis.xinfo_groups(keys.INBOUND_STREAM):
            last = g.get("last-delivered-id")
            last = last.decode() if isinstance(last, bytes) else last
            if last:
                limit = min(limit, last, key=_id_key)
        await self.redis.xtrim(keys.INBOUND_STREAM, minid=limit, approximate=True)

    async def _heartbeat(self) -> None:
        while True:
            with contextlib.suppress(Exception):
                await self.redis.zadd(keys.WORKERS, {self.consumer: time.time()})
                await self.redis.zremrangebyscore(keys.WORKERS, 0, time.time() - 3600)
            await asyncio.sleep(HEARTBEAT_S)

    def _decode(self, entry_id: Any, fields: dict[bytes, bytes] | None) -> _Entry:
        eid = entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)
        fields = fields or {}
        raw = fields.get(b"msg", b"")
        rid = fields.get(b"id", b"").decode()
        try:
            msg = InboundMessage.model_validate_json(raw)
        except Exception:
            msg = None
        return _Entry(eid, rid, raw, msg)

    async def _reclaim(self) -> None:
        """Take over entries a dead (or stuck) worker left pending; poison ones go to dead letters."""
        start = "0-0"
        for _ in range(20):
            res = await self.redis.xautoclaim(keys.INBOUND_STREAM, keys.DISPATCH_GROUP, self.consumer,
                                              min_idle_time=self.settings.claim_idle_ms, start_id=start,
                                              count=self.settings.dispatch_batch)
            start = res[0].decode() if isinstance(res[0], bytes) else res[0]
            claimed = [e for e in res[1] if e and e[1]]
            if len(res) > 2 and res[2]:  # entries deleted from the stream while pending
                await self.redis.xack(keys.INBOUND_STREAM, keys.DISPATCH_GROUP, *res[2])
            if claimed:
                entries = [self._decode(eid, f) for eid, f in claimed]
                await self._attach_delivery_counts(entries)
                log.info("dispatcher.reclaimed", entries=len(entries))
                await self.process_held(entries)
            if start in ("0-0", b"0-0"):
                break

    async def _attach_delivery_counts(self, entries: list[_Entry]) -> None:
        ids = [e.entry_id for e in entries]
        info = await self.redis.xpending_range(keys.INBOUND_STREAM, keys.DISPATCH_GROUP, min=ids[0],
                                               max=ids[-1], count=len(ids) * 4 + 10)
        counts = {(i["message_id"].decode() if isinstance(i["message_id"], bytes) else i["message_id"]):
                  int(i["times_delivered"]) for i in info}
        for e in entries:
            e.deliveries = counts.get(e.entry_id, 1)

    async def _sweep(self) -> None:
        held, asked = await self.conversations.sweep()  # timed out, or their question failed
        if held:
            await self._commit(held, no_ack=asked)
        for pre in self.preprocessors:
            sweep = getattr(pre, "sweep", None)  # optional: a hook that never holds anything has none
            emits = await sweep(self.redis) if sweep is not None else []
            if emits:
                failures = await self._enrich(emits)
                outs = []
                for em in emits:
                    if id(em) in failures:
                        log.warning("dispatcher.sweep_enrich_failed", error=type(failures[id(em)]).__name__)
                        continue  # its state stays; the next sweep tries again
                    outs.append(core_queue.Outgoing(self._record(em), [], list(em.extra)))
                await self._commit(outs)

    # ------------------------------------------------------------------ processing
    async def process_held(self, entries: list[_Entry]) -> None:
        """``process``, retried here, with backoff, for as long as Redis itself refuses.

        Left to XAUTOCLAIM, a batch that failed because Redis was full or away would be delivered
        again and again, each time counted as a worker lost on it, and dead-lettered after
        ``LAPOR_MAX_ATTEMPTS`` rounds although nothing is wrong with it. So this worker keeps the
        batch, keeps it claimed (XCLAIM JUSTID: no delivery counted, and other workers leave it
        alone) and tries again until Redis takes it or the worker is stopped."""
        delay = 0.5
        while True:
            try:
                await self.process(entries)
                return
            except REDIS_REFUSED as exc:
                if self._stop.is_set():
                    raise
                metrics.count("dispatcher", "redis_refused")
                log.warning("dispatcher.redis_refused", error=type(exc).__name__, batch=len(entries),
                            retry_s=delay)
                await self._keep_claimed(entries, delay)
                delay = min(delay * 2, HOLD_MAX_S)

    async def _keep_claimed(self, entries: list[_Entry], seconds: float) -> None:
        """Wait ``seconds``, refreshing the claim on ``entries`` often enough that no reclaim takes them."""
        step = max(0.05, min(seconds, self.settings.claim_idle_ms / 3000))
        deadline = time.monotonic() + seconds
        ids: list[Any] = [e.entry_id for e in entries]
        while not self._stop.is_set() and time.monotonic() < deadline:
            with contextlib.suppress(*REDIS_REFUSED, redis.exceptions.ResponseError):
                await self.redis.xclaim(keys.INBOUND_STREAM, keys.DISPATCH_GROUP, self.consumer, 0, ids,
                                        justid=True)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._stop.wait(), min(step, max(0.0, deadline - time.monotonic())))

    async def process(self, entries: list[_Entry]) -> None:
        outs: list[core_queue.Outgoing] = []
        done_without_record: list[str] = []
        replies: list[OutboundMessage] = []
        decided: list[tuple[_Entry, Decision]] = []
        items: list[Item] = []
        todo: list[_Entry] = []
        for e in entries:
            if e.msg is None:
                await self._dead(e, "unreadable stream entry (not an InboundMessage)")
                continue
            # a worker died on it max_attempts times already (XAUTOCLAIM counts deliveries)
            if e.deliveries > self.settings.max_attempts:
                await self._dead(e, f"worker lost while processing it {e.deliveries - 1} times"
                                    " (or held there while lapor:dead was full)")
                continue
            todo.append(e)
        for e, outcome in zip(todo, await self._decide_all([e.msg for e in todo if e.msg is not None]), strict=True):
            if isinstance(outcome, Exception):
                await self._failed(e, outcome)
            else:
                decided.append((e, outcome))
        failures = await self._enrich([em for _e, d in decided for em in d.emit])
        for e, decision in decided:
            assert e.msg is not None
            try:
                for em in decision.emit:
                    if id(em) in failures:
                        raise failures[id(em)]
                produced = [core_queue.Outgoing(self._record(em), [], list(em.extra)) for em in decision.emit]
            except Exception as exc:
                await self._failed(e, exc)
                continue
            if produced:
                produced[0].entry_ids.append(e.entry_id)
                items.extend(Item(o, em) for o, em in zip(produced, decision.emit, strict=True))
            else:
                done_without_record.append(e.entry_id)
                if decision.skipped:
                    metrics.count(e.msg.channel, f"skipped_{decision.skipped}")
            for rp in decision.replies:
                replies.append(OutboundMessage(channel=rp.channel, address=rp.address, text=rp.text,
                                               kind="reply", provider=rp.provider, thread=rp.thread,
                                               meta=rp.meta))
        plan = await self.conversations.plan(items)  # replies linked, answers merged, holds (in stream order)
        outs.extend(plan.outs)
        done_without_record.extend(plan.acked)

        def extra(pipe: Any) -> None:
            for fn in plan.extra:
                fn(pipe)
            if done_without_record:
                pipe.xack(keys.INBOUND_STREAM, keys.DISPATCH_GROUP, *done_without_record)
                pipe.hdel(keys.ATTEMPTS, *done_without_record)
            if self.settings.ack_enabled:
                for rp in replies:
                    outbound.enqueue_in(pipe, rp)
        if outs or done_without_record or replies:
            await self._commit(outs, extra, no_ack=plan.no_ack)
        self.processed += len(entries)

    async def _decide_all(self, msgs: list[InboundMessage]) -> list[Decision | Exception]:
        """Each message goes to the first preprocessor that applies; each preprocessor decides its
        share of the batch in one call (in stream order), so a hook doing network look-ups can run
        them concurrently. A failure holds back only its own message."""
        out: list[Decision | Exception] = [Decision.single(m) for m in msgs]
        shares: dict[int, list[int]] = {}
        for i, msg in enumerate(msgs):
            try:
                k = next((k for k, pre in enumerate(self.preprocessors) if pre.applies(msg)), None)
            except Exception as exc:
                out[i] = exc
                continue
            if k is not None:
                shares.setdefault(k, []).append(i)
        for k, idxs in shares.items():
            decisions = await _prepare_many(self.preprocessors[k], self.redis, [msgs[i] for i in idxs])
            for i, decision in zip(idxs, decisions, strict=True):
                out[i] = decision
        return out

    async def _enrich(self, emits: list[Emit]) -> dict[int, Exception]:
        """Run every enricher once over the whole batch (one Redis round trip each, not one per
        record). If a batch call fails, retry its emits one by one so that only the emit that
        really fails is held back. Returns the failures by ``id(emit)``."""
        failures: dict[int, Exception] = {}
        for enrich in self.enrichers:
            todo = [em for em in emits if id(em) not in failures]
            if not todo:
                break
            try:
                await enrich(self.redis, todo)
            except Exception as exc:
                if len(todo) == 1:
                    failures[id(todo[0])] = exc
                    continue
                for em in todo:
                    try:
                        await enrich(self.redis, [em])
                    except Exception as exc:
                        failures[id(em)] = exc
        return failures

    def warm_up(self) -> None:
        """Normalize and validate one built-in complaint before the first real one: the models,
        tables and the schema validator load lazily (~0.3 s), which would otherwise land on the
        first records' latency; loaded before ``gc.freeze()`` they also stay out of every
        later collection."""
        msg = InboundMessage(
            channel="api", provider="warm-up", kind="message", native_id="warm-up",
            sender=Sender(kind="api", id="warm-up", display_name="Budi Santoso", phone="081234567890"),
            text=_WARM_UP_TEXT)
        msg.stamp("01JD5Z8Q4G2X0000000000000A", datetime(2026, 1, 1, tzinfo=UTC))
        validate_record(record_json([msg], NormalizeContext()))

    def _record(self, em: Emit) -> dict[str, Any]:
        record = record_json(em.messages, em.ctx)
        validate_record(record)
        return record

    async def _commit(self, outs: list[core_queue.Outgoing], extra: Any = None, *,
                      no_ack: set[str] | frozenset[str] = frozenset()) -> None:
        outs = _merge_same_record(outs)
        for o in outs:  # two-way: the record's route, in the same atomic commit as its core job
            o.extra.append(functools.partial(routes.write_route, o.record, self.settings.route_ttl_days * 86400))
        if self.settings.ack_enabled:
            for o in outs:
                if o.record["id"] in no_ack:  # asked a question already: it carried the reference
                    continue
                ack = outbound.ack_for(o.record)
                if ack is not None:
                    o.extra.append(functools.partial(_enqueue_ack, ack))
        _enq, seen = await core_queue.commit(self.redis, self.core, outs, stream=keys.INBOUND_STREAM,
                                            group=keys.DISPATCH_GROUP, extra=extra, core_r=self.core_redis)
        now = datetime.now(UTC)
        counts: dict[str, int] = {}  # one metrics child per channel and batch, not per record
        latencies: dict[str, list[float]] = {}
        for o in outs:
            ch = o.record["channel"]
            counts[ch] = counts.get(ch, 0) + 1
            with contextlib.suppress(Exception):
                received = datetime.fromisoformat(o.record["received_at"].replace("Z", "+00:00"))
                latencies.setdefault(ch, []).append((now - received).total_seconds())
        for ch, n in counts.items():
            metrics.DISPATCHED.labels(ch).inc(n)
        for ch, lats in latencies.items():
            hist = metrics.E2E_LATENCY.labels(ch)
            for seconds in lats:
                hist.observe(seconds)
        if seen:
            log.info("dispatcher.already_enqueued", records=seen)

    async def _failed(self, e: _Entry, exc: Exception) -> None:
        attempts = int(await self.redis.hincrby(keys.ATTEMPTS, e.entry_id, 1))
        error = f"{type(exc).__name__}: {exc}"
        log.warning("dispatcher.normalize_failed", entry=e.entry_id, attempts=attempts,
                    error=type(exc).__name__)
        if attempts >= self.settings.max_attempts:
            await self._dead(e, error, attempts)
        # otherwise the entry stays pending; XAUTOCLAIM retries it after claim_idle_ms

    async def _dead(self, e: _Entry, error: str, attempts: int | None = None) -> None:
        channel = e.msg.channel if e.msg else "unknown"
        fields: dict[str, Any] = {"entry": e.entry_id, "id": e.record_id, "msg": e.raw, "error": error,
                                  "channel": channel, "attempts": str(attempts or e.deliveries),
                                  "at": datetime.now(UTC).isoformat()}
        if not await dead.add_dead(self.redis, e.entry_id, fields, self.settings.dead_letter_max):
            # lapor:dead is full: keep the entry pending here rather than lose it (dispatcher.dead)
            metrics.DEAD_LETTERS_HELD.inc()
            log.error("dispatcher.dead_letters_full", entry=e.entry_id, record=e.record_id,
                      cap=self.settings.dead_letter_max)
            return
        metrics.DEAD_LETTERS.inc()
        log.error("dispatcher.dead_letter", entry=e.entry_id, record=e.record_id, error=dead.dead_error(error)[:200])


def _merge_same_record(outs: list[core_queue.Outgoing]) -> list[core_queue.Outgoing]:
    """One Outgoing per record id: a record produced twice in one batch (e.g. a redelivered part
    and its set's completion) would otherwise be pushed onto the core queue twice."""
    merged: dict[str, core_queue.Outgoing] = {}
    for o in outs:
        first = merged.get(o.record["id"])
        if first is None:
            merged[o.record["id"]] = o
        else:
            first.entry_ids.extend(o.entry_ids)
            first.extra.extend(o.extra)
    return list(merged.values())


async def _prepare_many(pre: Preprocessor, r: aioredis.Redis, msgs: list[InboundMessage]) -> list[Decision | Exception]:
    """``pre.prepare_many`` when the hook has it (every ``Preprocessor`` subclass does), else one by one."""
    many = getattr(pre, "prepare_many", None)
    if many is not None:
        try:
            return list(await many(r, msgs))
        except Exception as exc:  # the whole call failed: every message of the share is held back
            return [exc for _ in msgs]
    return await prepare_each(pre, r, msgs)


def _enqueue_ack(ack: OutboundMessage, pipe: Any) -> None:
    outbound.enqueue_in(pipe, ack)


def _id_key(entry_id: str) -> tuple[int, int]:
    ms, _, seq = entry_id.partition("-")
    return int(ms), int(seq or 0)
