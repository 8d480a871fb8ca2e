"""Dead letters and replays: nothing that failed is lost, everything can be sent again.

``lapor:dead`` is capped (``LAPOR_DEAD_LETTER_MAX``) so that a normalizer bug failing every
message cannot grow Redis without bound out of sight. At the cap nothing is trimmed (each dead
letter is a citizen's complaint): ``add_dead`` refuses, the entry stays pending on
``lapor:inbound`` (whose trimming never drops a pending entry) and is retried on every reclaim,
``lapor_dead_letters_held`` counts the refusals, and the pipeline health turns ``failing`` so the
alert fires. Replaying or fixing the cause frees room. Error texts are scrubbed when written,
because the dashboard shows them.
"""

from __future__ import annotations

from typing import Any

import orjson
import redis.asyncio as aioredis

from gateway import keys
from gateway.logging import scrub
from normalizer.models import InboundMessage
from normalizer.normalize import normalize

# XADD to lapor:dead, XACK on lapor:inbound and forget the attempt count, all or nothing, and only
# while lapor:dead holds fewer than ARGV[1] entries (checked in the same script: no race).
_ADD_DEAD = """
if redis.call('XLEN', KEYS[1]) >= tonumber(ARGV[1]) then return 0 end
redis.call('XADD', KEYS[1], '*', unpack(ARGV, 4))
redis.call('XACK', KEYS[2], ARGV[2], ARGV[3])
redis.call('HDEL', KEYS[3], ARGV[3])
return 1
"""


def dead_error(error: str) -> str:
    """The error text as stored and shown: scrubbed of personal data and secrets, bounded."""
    return scrub(error[:4000])[:2000]


async def add_dead(r: aioredis.Redis, entry_id: str, fields: dict[str, Any], cap: int) -> bool:
    """Move a stream entry to ``lapor:dead``; False (entry left pending) when the store is full."""
    flat: list[Any] = []
    for k, v in fields.items():
        flat += [k, dead_error(v) if k == "error" and isinstance(v, str) else v]
    script = r.register_script(_ADD_DEAD)
    done = await script(keys=[keys.DEAD_STREAM, keys.INBOUND_STREAM, keys.ATTEMPTS],
                        args=[cap, keys.DISPATCH_GROUP, entry_id, *flat])
    return bool(int(done))


def _s(v: Any) -> str:
    return str(keys.text(v))


async def list_dead(r: aioredis.Redis, count: int = 100) -> list[dict[str, Any]]:
    """Newest first; the message itself is not included (personal data), only its ids."""
    out = []
    rows: Any = await r.xrevrange(keys.DEAD_STREAM, count=count)
    for eid, f in rows:
        out.append({"dead_id": _s(eid), "entry": _s(f.get(b"entry", b"")), "id": _s(f.get(b"id", b"")),
                    "channel": _s(f.get(b"channel", b"")), "error": scrub(_s(f.get(b"error", b""))),
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
