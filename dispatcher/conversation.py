"""The citizen's next message on a route: a reply to our question, or the answer to where.

Two features share one piece of state per route (``lapor:expect:<channel>:<address>``: the
record, the outbound id, until when, and which stream entry claimed it):

- **Reply linking.** After an outbound message with ``expects_reply`` is sent (and after a
  completeness question), the citizen's next message on that route within
  ``LAPOR_REPLY_WINDOW_H`` becomes a follow-up of the record: ``flags`` + ``follow_up``,
  ``conversation.in_reply_to`` = the record id, ``conversation.outbound_id`` = the outbound id.
  A native reply to one of our sent messages (its provider id is indexed by the delivery engine:
  email ``In-Reply-To``, X reply, Telegram reply, WhatsApp ``context``) links the same way with
  no window.
- **Hold and ask.** A complaint with no usable place (``normalizer.completeness.needs_question``)
  from a private route on a channel of ``LAPOR_COMPLETENESS_CHANNELS`` is not enqueued: the
  dispatcher's commit writes it to ``lapor:held:<id>`` (with a deadline in ``lapor:held:due``)
  and enqueues ONE question ``question-<id>`` instead of the acknowledgement, atomically with the
  stream XACK. The next message on that route within ``LAPOR_COMPLETENESS_WAIT_S`` is the answer:
  merged into the held record (``merge_answer``) and dispatched once, in one commit that also
  deletes the hold. The sweep dispatches what timed out (``mark_unanswered``). A late answer is a
  follow-up (the question's reply link).
- **Only when the question reaches the citizen.** No hold when no question can go out (no sender
  for the route's channel, acknowledgements off, no private route). A question whose send fails
  (the first failed attempt, transient or permanent, or its dead letter: ``question_failed``)
  releases its record at once, as it was (``asked: []``), with the plain acknowledgement; the
  citizen's next message is then a record of its own.

The rule for "which message is the answer": the next message on the route, unless it is a
complete complaint on its own (classified ``complaint`` with a place resolved to a regency/city
or a pin) — that one is dispatched as its own record, and the held record keeps waiting.

Claims go through ``conversation.lua`` (atomic, re-entrant per stream entry), so a worker killed
at any point is replaced by one that decides the same way; the core's exactly-once marker
(``lapor:enq:<id>``) makes the answer and the timeout race harmless: one record reaches the core.
"""

from __future__ import annotations

import functools
import re
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import orjson
import redis.asyncio as aioredis

from channels.core.hooks import Emit
from channels.core.outbound import OutboundMessage
from channels.core.reference import question_text, reference
from config.settings import Settings
from dispatcher import core_queue, outbound
from dispatcher import outbound_keys as ok
from dispatcher.delivery import own_message_kind
from gateway import keys, metrics
from gateway.logging import get_logger
from normalizer.completeness import mark_unanswered, merge_answer, needs_question
from normalizer.contract import validate_record
from normalizer.models import ComplaintRecord, GeoPoint

log = get_logger("dispatcher.conversation")

_LUA = resources.files("dispatcher").joinpath("conversation.lua").read_text(encoding="utf-8")
QUESTION_PREFIX = "question-"
Route = tuple[str, str]  # (reply_to.channel, reply_to.address)


def question_id(record_id: str) -> str:
    return f"{QUESTION_PREFIX}{record_id}"


def _s(v: Any) -> str:
    return v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v)


def route_of(record: dict[str, Any]) -> Route | None:
    reply_to = record.get("reply_to")
    if not reply_to or not reply_to.get("address"):
        return None
    return str(reply_to["channel"]), str(reply_to["address"])


def expect_in(pipe: Any, channel: str, address: str, record_id: str, outbound_id: str, window_s: int,
              now: float | None = None) -> None:
    """Queue on ``pipe``: the citizen's next message on this route answers ``outbound_id`` of ``record_id``."""
    key = keys.expect(channel, address)
    until = (now if now is not None else time.time()) + window_s
    pipe.delete(key)
    pipe.hset(key, mapping={"record_id": record_id, "outbound_id": outbound_id, "until": f"{until:.3f}"})
    pipe.expire(key, window_s + 3600)


def has_place(record: dict[str, Any]) -> bool:
    loc = record.get("location") or {}
    return bool(loc.get("regency_code")) or (loc.get("lat") is not None and loc.get("lon") is not None)


# words that say where, not what: an answer to "where?" is made of these and of place names
_WHERE_WORDS = frozenset(str.split("""
di ke dari dan atau yang dekat depan samping belakang sebelah seberang arah antara ujung pojok simpang perempatan
pertigaan gang gg komplek kompleks komp perumahan perum blok nomor rt rw km raya jalan jln jl desa ds kelurahan kel
kecamatan kec kabupaten kab kota kotamadya provinsi prov propinsi lokasi lokasinya tempat tempatnya alamat alamatnya
daerah wilayah kampung dusun dsn kp tepatnya sekitar ini itu ada nya pak bu terima kasih tks makasih mohon
"""))
_WORD = re.compile(r"[a-z]{3,}")
MAX_OTHER_WORDS = 5  # more words than this beyond the place: the message says what happened, not only where


def other_words(record: dict[str, Any]) -> int:
    """How many words of the record's text are neither place names it resolved nor words that say where."""
    loc = record.get("location") or {}
    names = {w for part in ("province", "regency", "district") for w in _WORD.findall(str(loc.get(part) or "").lower())}
    return sum(1 for w in _WORD.findall(str(record.get("body") or "").lower())
               if w not in _WHERE_WORDS and w not in names)


def complete_on_its_own(record: dict[str, Any]) -> bool:
    """A full complaint — classified ``complaint``, with its own place, and saying more than where — is
    never taken as the answer to another record's question."""
    return (record.get("classification") == "complaint" and has_place(record)
            and other_words(record) > MAX_OTHER_WORDS)


def link_follow_up(record: dict[str, Any], record_id: str, outbound_id: str | None) -> None:
    """Mark ``record`` (a contract dict) as a follow-up of ``record_id`` answering ``outbound_id``."""
    if "follow_up" not in record["flags"]:
        record["flags"].append("follow_up")
    conv = record.get("conversation") or {}
    record["conversation"] = {"thread_id": conv.get("thread_id"), "in_reply_to": record_id,
                              "outbound_id": outbound_id}


@dataclass
class Item:
    """One record the dispatcher made from one stream entry (or a multipart set), before commit."""

    out: core_queue.Outgoing
    emit: Emit


@dataclass
class Plan:
    outs: list[core_queue.Outgoing] = field(default_factory=list)  # to the core now
    extra: list[Callable[[Any], None]] = field(default_factory=list)  # holds, run in the commit's atomic step
    acked: list[str] = field(default_factory=list)  # entries consumed without a core record (held)
    no_ack: set[str] = field(default_factory=set)  # records whose citizen already has the reference
    held: int = 0


class Conversations:
    def __init__(self, r: aioredis.Redis, settings: Settings, reply_channels: Collection[str] | None = None) -> None:
        """``reply_channels``: the channels a sender is registered for (None: every channel); a question
        that cannot be sent is not worth holding a complaint for."""
        self.redis = r
        self.settings = settings
        self.reply_channels = None if reply_channels is None else frozenset(reply_channels)
        self.wait_s = settings.completeness_wait_s
        self.channels = {c.strip() for c in settings.completeness_channels.split(",") if c.strip()}
        self.reply_window_s = settings.reply_window_h * 3600
        # an answer claimed by a worker that never committed it is released as unanswered after this
        self.grace_s = max(60.0, settings.claim_idle_ms / 1000 * (settings.max_attempts + 2) * 2)
        self._script: Any = None

    async def _lua(self, key: str, *args: Any) -> Any:
        if self._script is None:
            self._script = self.redis.register_script(_LUA)
        return await self._script(keys=[key], args=list(args), client=self.redis)

    def can_ask(self, record: dict[str, Any]) -> bool:
        """A question can go out on the record's route: acknowledgements on, a private route, and a
        sender registered for its channel."""
        reply_to = record.get("reply_to") or {}
        if not self.settings.ack_enabled or not reply_to.get("address") or not reply_to.get("private", True):
            return False
        return self.reply_channels is None or reply_to.get("channel") in self.reply_channels

    # ------------------------------------------------------------------ deciding a batch
    def should_hold(self, record: dict[str, Any]) -> bool:
        if self.wait_s <= 0 or record["channel"] not in self.channels or not self.can_ask(record):
            return False  # no question can be sent: nothing to wait for, the record goes at once
        if record.get("classification") != "complaint" or has_place(record):
            return False  # cheap checks first: most records never need the model
        if (record.get("conversation") or {}).get("in_reply_to") or "follow_up" in record["flags"]:
            return False
        return bool(needs_question(ComplaintRecord.model_validate(record)))

    async def plan(self, items: list[Item]) -> Plan:
        """Decide, in stream order, what each record is: a reply, an answer, a hold, or itself."""
        plan = Plan()
        if not items:
            return plan
        now = time.time()
        routes = [route_of(it.out.record) for it in items]
        distinct = list(dict.fromkeys(r for r in routes if r is not None))
        states: dict[Route, dict[str, str]] = {}
        if distinct:
            async with self.redis.pipeline(transaction=False) as pipe:
                for key_rt in distinct:
                    pipe.hgetall(keys.expect(*key_rt))
                for key_rt, raw in zip(distinct, await pipe.execute(), strict=True):
                    if raw:
                        states[key_rt] = {_s(k): _s(v) for k, v in raw.items()}
        native = await self._native_links(items, routes)
        held_here: dict[Route, Item] = {}
        for i, (it, rt) in enumerate(zip(items, routes, strict=True)):
            try:
                await self._decide(plan, i, it, rt, states, native, held_here, now)
            except (aioredis.ConnectionError, aioredis.TimeoutError, OSError):
                raise  # the whole batch is retried, as for any Redis failure
            except Exception as exc:  # a bug here must not hold back the record: it goes as it is
                log.exception("conversation.decide_failed", record=it.out.record["id"], error=type(exc).__name__)
                plan.outs.append(it.out)
        for it in held_here.values():
            self._hold(plan, it, now)
        plan.held = len(held_here)
        return plan

    async def _decide(self, plan: Plan, i: int, it: Item, rt: Route | None, states: dict[Route, dict[str, str]],
                      native: dict[int, tuple[str, str]], held_here: dict[Route, Item], now: float) -> None:
        """One record of the batch, in stream order: an in-batch answer, an answer, a reply, a hold, or itself."""
        rec = it.out.record
        entry = it.out.entry_ids[0] if it.out.entry_ids else rec["id"]
        if rt is not None and rt in held_here and not complete_on_its_own(rec):
            first = held_here.pop(rt)
            self._merge_in_batch(first, it)  # answered before we could even ask
            plan.outs.append(first.out)
            return
        state = states.get(rt) if rt is not None else None
        link = native.get(i)
        asking = state is not None and state.get("outbound_id", "").startswith(QUESTION_PREFIX)
        if asking and state is not None and not complete_on_its_own(rec) and (
                link is None or link[1] == state["outbound_id"]):
            merged = await self._answer(state["record_id"], it, entry, rt, now)
            if merged is not None:
                plan.outs.append(merged)
                plan.no_ack.add(merged.record["id"])
                if rt is not None:
                    states.pop(rt, None)
                return
        if link is not None:
            self._link(rec, *link)
        elif (state is not None and rt is not None and not (asking and complete_on_its_own(rec))
              and self._linkable(rec, state.get("record_id", ""))):
            claimed = await self._lua(keys.expect(*rt), "expect", entry, f"{now:.3f}")
            if claimed:
                rid, oid = _s(claimed[0]), _s(claimed[1])
                if self._link(rec, rid, oid):
                    it.out.extra.append(functools.partial(_release, self, keys.expect(*rt), "by", entry))
                    states.pop(rt, None)
        if rt is not None and self.should_hold(rec):
            held_here[rt] = it
            return
        plan.outs.append(it.out)

    @staticmethod
    def _linkable(rec: dict[str, Any], record_id: str) -> bool:
        """Not our own record, and not linked elsewhere by a channel hook (its thread wins)."""
        current = (rec.get("conversation") or {}).get("in_reply_to")
        return bool(record_id) and record_id != rec["id"] and current in (None, record_id)

    def _link(self, rec: dict[str, Any], record_id: str, outbound_id: str | None) -> bool:
        if not self._linkable(rec, record_id):
            return False
        link_follow_up(rec, record_id, outbound_id)
        validate_record(rec)
        metrics.count(rec["channel"], "reply_linked")
        return True

    async def _native_links(self, items: list[Item], routes: list[Route | None]) -> dict[int, tuple[str, str]]:
        """Index -> (record id, outbound id) for native replies to a message we sent (no window)."""
        asks: list[tuple[int, str]] = []
        for i, it in enumerate(items):
            parent = it.emit.messages[0].parent_message_id if it.emit.messages else None
            rt = routes[i]
            if not parent or rt is None:
                continue
            cands = [parent]
            if ":" in parent and rt[0] == "telegram":  # inbound "<chat>:<message>", sent ids are "<message>"
                cands.append(parent.split(":", 1)[1])
            asks.extend((i, ok.provider_index(rt[0], c)) for c in cands)
        if not asks:
            return {}
        found: dict[int, str] = {}
        for (i, _key), raw in zip(asks, await self.redis.mget([k for _i, k in asks]), strict=True):
            if raw and i not in found:
                found[i] = _s(raw).split(" ", 1)[0]
        out: dict[int, tuple[str, str]] = {}
        for i, oid in found.items():
            own = own_message_kind(oid)
            rid = own[1] if own else _s(await self.redis.hget(ok.message(oid), "record_id") or b"")
            if not rid:
                continue
            raw_route = await self.redis.get(ok.route(rid))
            if raw_route is not None:  # provider ids may repeat across chats: the route must be this one
                reply_to = (orjson.loads(raw_route).get("reply_to") or {})
                if (reply_to.get("channel"), str(reply_to.get("address"))) != routes[i]:
                    continue
            out[i] = (rid, oid)
        return out

    # ------------------------------------------------------------------ the answer
    async def _answer(self, held_rid: str, it: Item, entry: str, rt: Route | None,
                      now: float) -> core_queue.Outgoing | None:
        res = await self._lua(keys.held(held_rid), "answer", entry, f"{now:.3f}")
        if not res or _s(res[0]) != "answer":
            return None
        held = ComplaintRecord.model_validate_json(res[1])
        merged = self._merged(held, it)
        extra: list[Callable[[Any], None]] = [*it.out.extra, functools.partial(_drop_hold, self, held_rid, rt)]
        log.info("conversation.answered", record=held_rid)
        metrics.count(merged["channel"], "completeness_answered")
        return core_queue.Outgoing(merged, list(it.out.entry_ids), extra)

    @staticmethod
    def _merged(held: ComplaintRecord, it: Item) -> dict[str, Any]:
        msgs = it.emit.messages
        text = "".join((m.body if m.body is not None else m.text) for m in msgs)
        pin = next((m.location for m in msgs if m.location and m.location.lat is not None), None)
        ids = [m.native_id for m in msgs]
        merged = merge_answer(held, text, ids[0] if ids else None,
                              GeoPoint(lat=pin.lat, lon=pin.lon, text=pin.text) if pin else None)
        extra_ids = [i for i in ids[1:] if i not in merged.source.message_ids]
        if extra_ids:
            merged.source.message_ids.extend(extra_ids)
        record = merged.to_json_dict()
        validate_record(record)
        return record

    def _merge_in_batch(self, held: Item, answer: Item) -> None:
        """The complaint and its answer arrived in one batch: merged before any question, acknowledged
        as usual (the citizen never saw a question)."""
        merged = self._merged(ComplaintRecord.model_validate(held.out.record), answer)
        held.out.record = merged
        held.out.entry_ids.extend(answer.out.entry_ids)
        held.out.extra.extend(answer.out.extra)

    # ------------------------------------------------------------------ holding
    def _hold(self, plan: Plan, it: Item, now: float) -> None:
        """Held records: their commands join the commit's atomic step, their entries are acknowledged there."""
        plan.acked.extend(it.out.entry_ids)
        plan.extra.extend(it.out.extra)  # the channel hook's own commands still run
        plan.extra.append(functools.partial(_write_hold, self, it.out.record, now))
        log.info("conversation.held", record=it.out.record["id"], channel=it.out.record["channel"])
        metrics.count(it.out.record["channel"], "completeness_held")

    def question(self, record: dict[str, Any]) -> OutboundMessage | None:
        msg = outbound.ack_for(record)
        if msg is None:
            return None
        ref = reference(record["id"])
        msg.kind = "question"
        msg.text = question_text(ref, short=record["channel"] == "sms" or msg.channel == "sms")
        msg.meta.update(outbound_id=question_id(record["id"]), ask_location=True)
        return msg

    # ------------------------------------------------------------------ timeouts
    async def sweep(self) -> tuple[list[core_queue.Outgoing], set[str]]:
        """Held records to release now, ready for the core, and the ids of those whose citizen was asked
        (no acknowledgement: the question carried the reference). Timed out: marked ``incomplete``.
        Question failed: as it was (never asked), acknowledged as usual."""
        if self.wait_s <= 0 and not await self.redis.zcard(keys.HELD_DUE):
            return [], set()
        now = time.time()
        due: Any = await self.redis.zrangebyscore(keys.HELD_DUE, 0, now, start=0, num=100)
        outs: list[core_queue.Outgoing] = []
        asked: set[str] = set()
        for raw_rid in due:
            rid = _s(raw_rid)
            res = await self._lua(keys.held(rid), "timeout", f"{now:.3f}", f"{self.grace_s:.3f}")
            if not res:
                if not await self.redis.exists(keys.held(rid)):
                    await self.redis.zrem(keys.HELD_DUE, rid)  # released already
                continue
            held = ComplaintRecord.model_validate_json(res[1])
            if _s(res[0]) == "failed":
                record = held.to_json_dict()  # the citizen was never asked: the plain record
                log.info("conversation.released_unasked", record=rid)
            else:
                record = mark_unanswered(held).to_json_dict()
                asked.add(rid)
                log.info("conversation.unanswered", record=rid)
                metrics.count(record["channel"], "completeness_unanswered")
            validate_record(record)
            outs.append(core_queue.Outgoing(record, [], [functools.partial(_drop_hold, self, rid, None)]))
        return outs, asked


async def question_failed(r: aioredis.Redis, question: OutboundMessage) -> bool:
    """The question ``question`` could not be sent: release its held record at once (the dispatcher's
    next sweep sends it to the core, exactly once, race-safe with an answer and the timeout) and
    forget the route's expectation. True when this call released it."""
    oid = str(question.meta.get("outbound_id") or "")
    rid = question.record_id or (oid[len(QUESTION_PREFIX):] if oid.startswith(QUESTION_PREFIX) else "")
    if not rid:
        return False
    script = r.register_script(_LUA)
    released = await script(keys=[keys.held(rid), keys.expect(question.channel, question.address), keys.HELD_DUE],
                            args=["failed", question_id(rid), f"{time.time():.3f}", rid], client=r)
    if int(released or 0):
        log.info("conversation.question_failed", record=rid, channel=question.channel)
        metrics.count(str(question.meta.get("source_channel") or question.channel), "completeness_question_failed")
        return True
    return False


# ---------------------------------------------------------------------- commands in the commit's atomic step
def _write_hold(conv: Conversations, record: dict[str, Any], now: float, pipe: Any) -> None:
    rid = record["id"]
    rt = route_of(record)
    assert rt is not None
    deadline = now + conv.wait_s
    pipe.hset(keys.held(rid), mapping={"record": orjson.dumps(record), "route": f"{rt[0]}\t{rt[1]}",
                                       "deadline": f"{deadline:.3f}", "state": "waiting"})
    pipe.expire(keys.held(rid), conv.wait_s + conv.reply_window_s + 86400)
    pipe.zadd(keys.HELD_DUE, {rid: deadline})
    expect_in(pipe, rt[0], rt[1], rid, question_id(rid), conv.reply_window_s, now)
    q = conv.question(record)
    if q is not None:
        outbound.enqueue_in(pipe, q)


def _drop_hold(conv: Conversations, rid: str, rt: Route | None, pipe: Any) -> None:
    """Released (answered or timed out): the hold goes; an answered question's reply link goes too."""
    pipe.delete(keys.held(rid))
    pipe.zrem(keys.HELD_DUE, rid)
    if rt is not None:
        _release(conv, keys.expect(*rt), "outbound_id", question_id(rid), pipe)


def _release(conv: Conversations, key: str, fieldname: str, value: str, pipe: Any) -> None:
    pipe.eval(_LUA, 1, key, "release", fieldname, value)
