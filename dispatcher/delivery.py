"""Delivery statuses: forward only, kept with their history, each one handed to the core once.

Every status change goes through one Lua call (``delivery.lua``): it drops a status that is
not forward (queued < sent < delivered < read; failed is terminal), records it on the message
hash and its history, and — guarded by the marker ``lapor:stq:<id>-<status>`` — runs the Redis
commands RQ itself built for the core's status job (``CoreQueue.job_commands``, the same
recording trick as the complaint jobs). So a status reaches ``LAPOR_CORE_STATUS_QUEUE`` exactly
once, whoever reports it and however often (DLR retries, worker restarts).

Multipart messages (SMS parts, Telegram chunks) keep a status per part; the message is
delivered when every part is, failed as soon as one part fails. Provider message ids are
indexed (``<channel>:<provider id>`` → outbound id and part) so that a delivery report, an
SMPP receipt or a Meta/WhatsApp webhook only needs :func:`report_provider`.

The gateway's own messages report the same way: ``ack-<record id>`` (kind ``ack``) and
``question-<record id>`` (kind ``question_completeness``) need no registration beyond the
channel, which :func:`report` takes as an argument when the message hash does not exist.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from typing import Any

import orjson
import redis.asyncio as aioredis
import redis.exceptions

from channels.core.inbound import DeliveryReport
from channels.core.outbound import WATERMARK_PREFIX
from dispatcher import outbound_keys as ok
from dispatcher.core_queue import CoreQueue
from gateway import metrics
from gateway.lua import with_run_commands
from normalizer.twoway_contract import validate_delivery

STATUSES = ("queued", "sent", "delivered", "read", "failed")
ORDER = {"queued": 1, "sent": 2, "delivered": 3, "read": 4}
_LUA = with_run_commands(
    resources.files("dispatcher").joinpath("delivery.lua").read_text(encoding="utf-8"))
_MAX_TRIES = 20
WATERMARK_BATCH = 500  # messages one watermark may settle at most (older ones expire with their keys)


def status_queue(settings: Any) -> CoreQueue:
    """The RQ queue statuses go to (``LAPOR_CORE_STATUS_QUEUE`` / ``LAPOR_CORE_STATUS_FUNC``)."""
    return CoreQueue(settings.core_status_queue, settings.core_status_func)


def is_forward(current: str | None, new: str) -> bool:
    if not current:
        return True
    if current == "failed":
        return False
    if new == "failed":
        return True
    return ORDER.get(new, 0) > ORDER.get(current, 0)


def aggregate(part_statuses: dict[str, str], total: int) -> str | None:
    """The message status the parts add up to, or None while some part has not reported."""
    if any(s == "failed" for s in part_statuses.values()):
        return "failed"
    if len(part_statuses) < total:
        return None
    return min(part_statuses.values(), key=lambda s: ORDER.get(s, 5))


def own_message_kind(outbound_id: str) -> tuple[str, str] | None:
    """(kind, record id) of the gateway's own messages: ``ack-<record>``, ``question-<record>``."""
    if outbound_id.startswith("ack-"):
        return "ack", outbound_id[4:]
    if outbound_id.startswith("question-"):
        return "question_completeness", outbound_id[9:]
    return None


def epoch_of(at: str | None) -> float | None:
    """Unix time of an ISO 8601 instant, None when absent or unreadable."""
    if not at:
        return None
    try:
        when = datetime.fromisoformat(at.replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.timestamp()


def iso_at(at: str | None) -> str | None:
    """A provider's time as the contract's ``date-time`` (UTC, ``Z``); None when absent or unreadable."""
    t = epoch_of(at)
    if t is None:
        return None
    return datetime.fromtimestamp(t, UTC).isoformat().replace("+00:00", "Z")


def report_error(rep: DeliveryReport) -> dict[str, Any] | None:
    """The ``error`` object of a failed report (``undeliverable`` when the provider named none)."""
    if rep.status != "failed":
        return None
    error: dict[str, Any] = {"code": rep.error_code or "undeliverable"}
    if rep.error_detail:
        error["detail"] = rep.error_detail[:500]
    return error


def now_iso() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def body_digest(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def encode_commands(commands: list[tuple[tuple[Any, ...], dict[str, Any]]]) -> list[Any]:
    """RQ's recorded commands as a flat ARGV tail: count, then (nargs, args…) per command."""
    out: list[Any] = [len(commands)]
    for args, _opts in commands:
        out.append(len(args))
        out.extend(_arg(a) for a in args)
    return out


def _arg(value: Any) -> bytes | str | int | float:
    if isinstance(value, bytes | int | float) and not isinstance(value, bool):
        return value
    return str(getattr(value, "value", value))


def _s(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


@dataclass
class StatusEngine:
    """Records statuses in Redis and hands each to the core; one instance per process.

    ``outbox``: the core queue lives on another Redis (``LAPOR_CORE_REDIS_URL``). Then the
    atomic step pushes the status onto ``lapor:status:outbox`` instead of running RQ's
    commands, and :meth:`flush_outbox` moves it to the core's Redis, exactly once thanks to
    the same markers written there in the same ``MULTI`` as the jobs.
    """

    redis: aioredis.Redis
    queue: CoreQueue
    ttl_s: int
    outbox: bool = False

    def __post_init__(self) -> None:
        self._script = self.redis.register_script(_LUA)

    def job_commands(self, delivery: dict[str, Any], also: list[tuple[Any, ...]] | None = None) -> list[Any]:
        """ARGV tail that enqueues ``delivery`` as the status job (validated first), then runs ``also``."""
        validate_delivery(delivery)
        extra: list[tuple[tuple[Any, ...], dict[str, Any]]] = [(tuple(c), {}) for c in also or []]
        if self.outbox:
            return encode_commands([(("RPUSH", ok.STATUS_OUTBOX, orjson.dumps(delivery)), {}), *extra])
        job_id = f"{delivery['outbound_id']}-{delivery['status']}"
        return encode_commands([*self.queue.job_commands([(job_id, delivery, f"delivery {job_id}")]), *extra])

    async def flush_outbox(self, core_r: aioredis.Redis, batch: int = 200) -> int:
        """Move pending statuses to the core's Redis (jobs + markers in one MULTI there, WATCHed
        like the complaint jobs); a re-run after a crash finds the markers and skips them."""
        items: Any = await self.redis.lrange(ok.STATUS_OUTBOX, 0, batch - 1)
        if not items:
            return 0
        docs = [orjson.loads(i) for i in items]
        markers = [ok.status_marker(d["outbound_id"], d["status"]) for d in docs]
        async with core_r.pipeline(transaction=True) as pipe:
            await pipe.watch(*markers)
            found: Any = await pipe.execute_command("MGET", *markers)
            todo = [(d, m) for d, m, f in zip(docs, markers, found, strict=True) if f is None]
            pipe.multi()
            jobs = [(f"{d['outbound_id']}-{d['status']}", d, f"delivery {d['outbound_id']}-{d['status']}")
                    for d, _m in todo]
            for args, opts in self.queue.job_commands(jobs) if jobs else []:
                pipe.execute_command(*args, **opts)
            for _d, m in todo:
                pipe.set(m, 1, ex=ok.STATUS_MARKER_TTL_S)
            try:
                await pipe.execute()
            except redis.exceptions.WatchError:
                return 0  # another worker moved them meanwhile; the next round skips them by marker
        await self.redis.ltrim(ok.STATUS_OUTBOX, len(items), -1)
        return len(todo)

    async def report(self, outbound_id: str, status: str, at: str | None = None, *,
                     error: dict[str, Any] | None = None, part: int | None = None,
                     provider_ids: list[str] | None = None, parts: int | None = None,
                     truncated: bool | None = None, public_notice: bool | None = None,
                     channel: str | None = None, record_id: str | None = None,
                     kind: str | None = None, also: list[tuple[Any, ...]] | None = None) -> str:
        """Record one status of a message (or of one of its parts) and enqueue it once.

        Returns ``ok`` (new status, job enqueued), ``stale`` (not forward: dropped) or ``part``
        (a part recorded, the message itself unchanged). ``provider_ids``/``parts``/… are
        stored on the message and carried by this and later statuses. ``also``: Redis commands
        run in the same atomic step as the job, when it is enqueued (the provider-id index that
        goes with ``sent``: :meth:`provider_index_commands`).
        """
        if status not in STATUSES:
            raise ValueError(f"unknown status {status!r}")
        at = at or now_iso()
        for _ in range(_MAX_TRIES):
            raw: Any = await self.redis.hgetall(ok.message(outbound_id))
            msg = {_s(k): _s(v) for k, v in raw.items()}
            fields: dict[str, str] = {}
            own = own_message_kind(outbound_id)
            for name, given, derived in (("channel", channel, None),
                                         ("record_id", record_id, own[1] if own else None),
                                         ("kind", kind, own[0] if own else None)):
                value = given or msg.get(name) or derived
                if value is None:
                    raise LookupError(f"outbound message {outbound_id} unknown and no {name} given")
                if msg.get(name) != value:
                    fields[name] = value
            if provider_ids is not None:
                fields["provider_ids"] = orjson.dumps(provider_ids).decode()
            if parts is not None:
                fields["parts"] = str(parts)
            for name, flag in (("truncated", truncated), ("public_notice", public_notice)):
                if flag is not None:
                    fields[name] = "1" if flag else "0"
            merged = {**msg, **fields}
            target, expected, part_status = status, "", ""
            if part is not None:
                part_status = status
                seen: Any = await self.redis.hgetall(ok.part_statuses(outbound_id))
                states = {_s(k): _s(v) for k, v in seen.items()}
                if not is_forward(states.get(str(part)), status):
                    return "stale"
                states[str(part)] = status
                agg = aggregate(states, int(merged.get("parts") or 1))
                expected = agg or ""
                target = agg or ""
            commands: list[Any] = [0]
            entry = {"status": target, "at": at, "error": error}
            if target:
                if not is_forward(msg.get("status"), target):
                    if part is None:
                        return "stale"
                    target = ""  # still record the part; the message does not move
                else:
                    commands = self.job_commands(self.delivery(outbound_id, merged, target, at, error), also)
            flat = [x for kv in fields.items() for x in kv]
            res = await self._script(
                keys=[ok.message(outbound_id), ok.history(outbound_id), ok.status_marker(outbound_id, target or "none"),
                      ok.part_statuses(outbound_id)],
                args=[target, orjson.dumps(entry), "" if part is None else str(part), part_status, expected,
                      self.ttl_s, ok.STATUS_MARKER_TTL_S, len(fields), *flat, *commands])
            result = _s(res)
            if result == "ok" and target:  # twoway-ops: per-channel counts for /metrics, dashboard, status
                metrics.count_outbound(merged.get("channel", ""), target, error)
            if result != "mismatch":
                return result
        raise RuntimeError(f"status of {outbound_id} kept changing under us")

    @staticmethod
    def delivery(outbound_id: str, msg: dict[str, str], status: str, at: str,
                 error: dict[str, Any] | None) -> dict[str, Any]:
        """The ``lapor.delivery/1`` object for this status of this message."""
        doc: dict[str, Any] = {"schema": "lapor.delivery/1", "outbound_id": outbound_id,
                               "record_id": msg["record_id"], "kind": msg["kind"], "status": status,
                               "at": at, "channel": msg["channel"]}
        if msg.get("provider_ids"):
            doc["provider_message_ids"] = orjson.loads(msg["provider_ids"])
        if msg.get("parts"):
            doc["parts"] = int(msg["parts"])
        doc["truncated"] = msg.get("truncated") == "1"
        doc["public_notice"] = msg.get("public_notice") == "1"
        if error is not None:
            doc["error"] = error
        return doc

    # ------------------------------------------------------------------ provider ids
    def index_provider_ids(self, pipe: Any, outbound_id: str, channel: str, provider_ids: list[str]) -> None:
        """Queue on ``pipe``: each provider id → ``<outbound id> <part>`` (part = its position)."""
        for n, pid in enumerate(provider_ids, 1):
            pipe.set(ok.provider_index(channel, pid), f"{outbound_id} {n} {len(provider_ids)}", ex=self.ttl_s)

    def provider_index_commands(self, outbound_id: str, channel: str, provider_ids: list[str], *,
                                address: str | None = None, sent_at: float | None = None) -> list[tuple[Any, ...]]:
        """The commands of :meth:`index_provider_ids` (and of the recipient index when ``address``
        is given) for :meth:`report`'s ``also``: indexed in the same step that records ``sent``."""
        total = len(provider_ids)
        cmds: list[tuple[Any, ...]] = [("SET", ok.provider_index(channel, pid), f"{outbound_id} {n} {total}",
                                        "EX", self.ttl_s) for n, pid in enumerate(provider_ids, 1)]
        if address and provider_ids:
            key = ok.sent_to(channel, address)
            when = sent_at if sent_at is not None else datetime.now(UTC).timestamp()
            for pid in provider_ids:
                cmds.append(("ZADD", key, when, pid))
            cmds.append(("EXPIRE", key, self.ttl_s))
        return cmds

    async def lookup_provider(self, channel: str, provider_id: str) -> tuple[str, int] | None:
        found = await self.lookup_provider_part(channel, provider_id)
        return None if found is None else found[:2]

    async def lookup_provider_part(self, channel: str, provider_id: str) -> tuple[str, int, int | None] | None:
        """(outbound id, part, how many provider ids the message has — None in older entries)."""
        raw = await self.redis.get(ok.provider_index(channel, provider_id))
        if raw is None:
            return None
        oid, part, *total = _s(raw).split(" ")
        return oid, int(part or 1), int(total[0]) if total else None

    async def report_provider(self, channel: str, provider_id: str, status: str, at: str | None = None, *,
                              error: dict[str, Any] | None = None) -> str:
        """A status that names the provider's id (DLR, SMPP receipt, Meta/WhatsApp webhook).

        Returns ``unknown`` when the id is not one of ours (another system's message, or expired).
        """
        found = await self.lookup_provider_part(channel, provider_id)
        if found is None:
            return "unknown"
        oid, part, total = found
        raw = await self.redis.hget(ok.message(oid), "parts")
        # per-part reports only when each part has its own id (SMPP, Telegram chunks); one id for a
        # long message (Jasmin splits it itself) reports the whole message
        multipart = raw is not None and int(raw) > 1 and (total is None or total > 1)
        return await self.report(oid, status, at, error=error, part=part if multipart else None)

    def index_recipient(self, pipe: Any, channel: str, address: str, provider_ids: list[str],
                        sent_at: float) -> None:
        """Queue on ``pipe``: these ids were sent to ``address`` at ``sent_at`` (watermark receipts)."""
        if not provider_ids:
            return
        key = ok.sent_to(channel, address)
        pipe.zadd(key, dict.fromkeys(provider_ids, sent_at))
        pipe.expire(key, self.ttl_s)

    async def report_watermark(self, channel: str, address: str, status: str, at: str | None) -> list[str]:
        """Every message sent to ``address`` up to ``at`` reached ``status`` (Messenger watermarks).

        After ``read`` the settled ids leave the recipient's index: nothing later can move them.
        """
        limit = epoch_of(at)
        if limit is None:
            return ["invalid"]
        key = ok.sent_to(channel, address)
        ids: Any = await self.redis.zrangebyscore(key, "-inf", limit, start=0, num=WATERMARK_BATCH)
        outcomes = [await self.report_provider(channel, _s(pid), status, at) for pid in ids]
        if status == "read" and ids:
            await self.redis.zrem(key, *ids)
        return outcomes or ["unknown"]

    async def apply(self, rep: DeliveryReport) -> list[str]:
        """Record one provider report; one outcome per message it touched.

        ``ok``/``part``/``stale`` as :meth:`report`; ``unknown`` when the id is not ours (another
        system's message, or expired); ``invalid`` when the report names no message at all.
        """
        error = report_error(rep)
        at = iso_at(rep.at)
        if rep.provider_id and rep.provider_id.startswith(WATERMARK_PREFIX):
            return await self.report_watermark(rep.channel, rep.provider_id[len(WATERMARK_PREFIX):],
                                               rep.status, rep.at)
        if rep.outbound_id:
            raw: Any = await self.redis.hget(ok.message(rep.outbound_id), "parts")
            if raw is None and own_message_kind(rep.outbound_id) is None \
                    and not await self.redis.exists(ok.message(rep.outbound_id)):
                return ["unknown"]
            multipart = raw is not None and int(raw) > 1
            part = rep.part if multipart and rep.part else None
            try:
                return [await self.report(rep.outbound_id, rep.status, at, error=error, part=part,
                                          channel=rep.channel)]
            except LookupError:
                return ["unknown"]
        if rep.provider_id:
            return [await self.report_provider(rep.channel, rep.provider_id, rep.status, at, error=error)]
        return ["invalid"]

    # ------------------------------------------------------------------ reading
    async def view(self, outbound_id: str) -> dict[str, Any] | None:
        """What ``GET /outbound/messages/{id}`` shows, or None when unknown."""
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.hgetall(ok.message(outbound_id))
            pipe.lrange(ok.history(outbound_id), 0, -1)
            raw, hist = await pipe.execute()
        if not raw:
            return None
        msg = {_s(k): _s(v) for k, v in raw.items()}
        return {"id": outbound_id, "record_id": msg.get("record_id"), "kind": msg.get("kind"),
                "channel": msg.get("channel"), "status": msg.get("status"),
                "history": [orjson.loads(h) for h in hist],
                "parts": int(msg["parts"]) if msg.get("parts") else None,
                "truncated": msg.get("truncated") == "1", "public_notice": msg.get("public_notice") == "1"}
