"""What admins see and do about the core's messages to citizens: counts, queue depth, dead letters.

Counts come from the delivery engine (``lapor_outbound_total{channel,status}`` and
``lapor_outbound_failed_total{channel,code}``, counted once per accepted status change by
``metrics.count_outbound``); queue depth is read from Redis: the stream backlog of the
``outbound-senders`` group, what it has read and not finished, and the waiting-later set.

Dead letters of core messages sit in ``lapor:outbound:dead`` (entries with ``o``, next to the
acknowledgements' entries with ``m``). A replay never re-opens the failed message: the contract
says ``failed`` is terminal and the core already has that status. It creates a **new attempt**
``<id>-replay<N>`` with the same record, kind and text, through the same store as the API (the
``queued`` status job included), so the core hears ``<id>-replay<N>-queued``, ``…-sent`` … and
links it by ``record_id`` (and by the id's prefix). The old message keeps ``failed`` and gets
``replayed_as``; the new one carries ``replay_of``.
"""

from __future__ import annotations

import contextlib
from typing import Any

import orjson
import redis.asyncio as aioredis

from dispatcher import outbound_keys as ok
from dispatcher.delivery import now_iso
from gateway import keys, metrics
from gateway.logging import scrub

OUTBOUND, OUTBOUND_FAILED = metrics.OUTBOUND, metrics.OUTBOUND_FAILED
REPLAY_SUFFIX = "-replay"


def _s(v: Any) -> str:
    return v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v)


async def queue_numbers(r: aioredis.Redis) -> dict[str, int]:
    """Backlog (not read by a sender yet), in flight (read, not finished), waiting later."""
    later = await r.zcard(ok.LATER)
    backlog = in_flight = 0
    try:
        for g in await r.xinfo_groups(ok.OUTBOUND_STREAM):
            if _s(g.get("name")) == ok.SEND_GROUP:
                in_flight = int(g.get("pending") or 0)
                backlog = int(g.get("lag") or 0)
    except aioredis.ResponseError:
        pass  # no stream or group yet
    return {"outbound_backlog": backlog, "outbound_in_flight": in_flight, "outbound_later": int(later)}


def per_channel(snap: metrics.Snapshot) -> dict[str, dict[str, int]]:
    """``{channel: {sent, delivered, read, failed, window_closed}}`` from a metrics snapshot."""
    out: dict[str, dict[str, int]] = {}
    for key, v in snap.counters.get(OUTBOUND.name, {}).items():
        channel, _, status = key.partition(metrics.SEP)
        out.setdefault(channel, {})[status] = int(v)
    for key, v in snap.counters.get(OUTBOUND_FAILED.name, {}).items():
        channel, _, code = key.partition(metrics.SEP)
        if code == "window_closed":
            out.setdefault(channel, {})["window_closed"] = int(v)
    for counts in out.values():
        for name in ("sent", "delivered", "read", "failed", "window_closed"):
            counts.setdefault(name, 0)
    return dict(sorted(out.items()))


async def summary(r: aioredis.Redis) -> dict[str, Any]:
    """The dashboard's and ``status``'s outbound section: queue numbers and counts per channel."""
    with contextlib.suppress(Exception):  # unflushed counts only make the numbers a second late
        await metrics.flush(r)
    queue = await queue_numbers(r)
    queue["dead_letters"] = await count_dead(r)
    return {"queue": queue, "channels": per_channel(await metrics.read_snapshot(r))}


# ---------------------------------------------------------------------------------------- dead letters
async def list_dead(r: aioredis.Redis, count: int = 100) -> list[dict[str, Any]]:
    """Core messages that failed for good, newest first (ids and error only: no text)."""
    rows: Any = await r.xrevrange(keys.OUTBOUND_DEAD, count=count * 4)
    dead = [(eid, f) for eid, f in rows if f.get(b"o") is not None][:count]  # "m": an acknowledgement's
    async with r.pipeline(transaction=False) as pipe:
        for _eid, f in dead:
            pipe.hmget(ok.message(_s(f[b"o"])), ["record_id", "channel", "kind", "attempts", "replayed_as"])
        found: Any = await pipe.execute()
    return [{"dead_id": _s(eid), "id": _s(f[b"o"]), "record_id": _s(m[0] or b""), "channel": _s(m[1] or b""),
             "kind": _s(m[2] or b""), "attempts": _s(m[3] or b"0"), "error": scrub(_s(f.get(b"error", b""))),
             "at": _s(f.get(b"at", b"")), "replayed_as": _s(m[4]) if m[4] else None}
            for (eid, f), m in zip(dead, found, strict=True)]


async def count_dead(r: aioredis.Redis, limit: int = 10_000) -> int:
    """Dead letters of core messages (not acknowledgements), up to ``limit``: one round trip."""
    rows: Any = await r.xrevrange(keys.OUTBOUND_DEAD, count=limit)
    return sum(1 for _eid, f in rows if f.get(b"o") is not None)


async def _next_replay_id(r: aioredis.Redis, oid: str) -> str:
    base = oid.split(REPLAY_SUFFIX)[0] if REPLAY_SUFFIX in oid else oid
    n = int(await r.hincrby(ok.message(base), "replays", 1))
    return f"{base}{REPLAY_SUFFIX}{n}"


async def replay_one(r: aioredis.Redis, store: Any, oid: str) -> str | None:
    """Send a failed message again as a new attempt; returns the new id (None: nothing to replay).

    ``store`` is ``OutboundApi.store`` (or anything with its signature): the same durable path
    as ``POST /outbound/messages``.
    """
    raw: Any = await r.hgetall(ok.message(oid))
    msg = {_s(k): _s(v) for k, v in raw.items()}
    if not msg or msg.get("status") != "failed" or not msg.get("doc"):
        return None
    doc = orjson.loads(msg["doc"])
    # the new id is claimed on the original before storing, and the store is idempotent on the id:
    # a replay cut short (crash) and run again finishes the same attempt instead of starting another
    new_id = msg.get("replayed_as") or await _next_replay_id(r, oid)
    await r.hset(ok.message(oid), mapping={"replayed_as": new_id, "replayed_at": now_iso()})
    new_doc = dict(doc, id=new_id)
    await store(new_doc, orjson.dumps(new_doc), msg.get("channel") or "")
    await r.hset(ok.message(new_id), "replay_of", oid)
    return new_id


async def replay_dead(r: aioredis.Redis, store: Any,
                      dead_ids: list[str] | None = None, outbound_ids: list[str] | None = None) -> list[str]:
    """Replay dead letters (by dead-letter id, by outbound id, or all); each leaves the dead stream."""
    rows: Any = await r.xrange(keys.OUTBOUND_DEAD)
    new_ids: list[str] = []
    for eid, f in rows:
        oid = f.get(b"o")
        if oid is None:
            continue
        if dead_ids is not None and _s(eid) not in dead_ids:
            continue
        if outbound_ids is not None and _s(oid) not in outbound_ids:
            continue
        new_id = await replay_one(r, store, _s(oid))
        await r.xdel(keys.OUTBOUND_DEAD, eid)
        if new_id:
            new_ids.append(new_id)
    return new_ids
