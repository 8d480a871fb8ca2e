"""Dead letters and replays: nothing that failed is lost, everything can be sent again."""

from __future__ import annotations

from typing import Any

import orjson
import redis.asyncio as aioredis

from gateway import keys
from normalizer.models import InboundMessage
from normalizer.normalize import normalize


def _s(v: Any) -> str:
    return v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v)


async def list_dead(r: aioredis.Redis, count: int = 100) -> list[dict[str, Any]]:
    """Newest first; the message itself is not included (personal data), only its ids."""
    out = []
    rows: Any = await r.xrevrange(keys.DEAD_STREAM, count=count)
    for eid, f in rows:
        out.append({"dead_id": _s(eid), "entry": _s(f.get(b"entry", b"")), "id": _s(f.get(b"id", b"")),
                    "channel": _s(f.get(b"channel", b"")), "error": _s(f.get(b"error", b"")),
                    "attempts": _s(f.get(b"attempts", b"")), "at": _s(f.get(b"at", b""))})
    return out


async def replay_dead(r: aioredis.Redis, dead_ids: list[str] | None = None) -> int:
    """Put dead letters back on ``lapor:inbound`` (same record id) and remove them from dead."""
    entries: Any
    if dead_ids is None:
        entries = await r.xrange(keys.DEAD_STREAM)
    else:
        entries = []
        for did in dead_ids:
            entries += await r.xrange(keys.DEAD_STREAM, min=did, max=did)
    n = 0
    for eid, f in entries:
        async with r.pipeline(transaction=True) as pipe:
            pipe.xadd(keys.INBOUND_STREAM, {"id": f.get(b"id", b""), "msg": f.get(b"msg", b""),
                                            "replay_of": f.get(b"entry", b"")})
            pipe.xdel(keys.DEAD_STREAM, eid)
            await pipe.execute()
        n += 1
    return n


async def renormalize_range(r: aioredis.Redis, start: str = "-", end: str = "+", *,
                            requeue_missing: bool = False) -> tuple[list[dict[str, Any]], int]:
    """Normalize stream entries again (e.g. with a newer normalizer).

    Returns the records (for inspection or export) and, with ``requeue_missing``, how many
    entries whose record never reached the core were put back on the stream. Records already in
    the core are never sent twice.
    """
    records: list[dict[str, Any]] = []
    requeued = 0
    rows: Any = await r.xrange(keys.INBOUND_STREAM, min=start, max=end)
    for eid, f in rows:
        try:
            msg = InboundMessage.model_validate_json(f[b"msg"])
            records.append(normalize([msg]).to_json_dict())
        except Exception as exc:
            records.append({"entry": _s(eid), "error": f"{type(exc).__name__}: {exc}"})
            continue
        if requeue_missing and msg.id and not await r.exists(keys.enqueued(msg.id)):
            pending = await r.xpending_range(keys.INBOUND_STREAM, keys.DISPATCH_GROUP, min=eid, max=eid,
                                             count=1)
            if not pending:  # not in flight either: lost to a bug, send it round again
                await r.xadd(keys.INBOUND_STREAM, {"id": f.get(b"id", b""), "msg": f[b"msg"],
                                                   "replay_of": eid})
                requeued += 1
    return records, requeued


def dumps(records: list[dict[str, Any]]) -> bytes:
    return b"\n".join(orjson.dumps(r) for r in records)
