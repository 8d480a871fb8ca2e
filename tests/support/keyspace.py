"""What a request stored: every Redis key and its size, minus the gateway's own bookkeeping.

Counters, the channel log, alerts, presence heartbeats and the admin login limiter are written
for every request by design (a refused request is counted and logged); anything else that
appears or grows after an unauthenticated request is a write that must not happen.
"""

from __future__ import annotations

from typing import Any

BOOKKEEPING = ("lapor:metrics:", "lapor:chlog:", "lapor:alert:", "lapor:gateway:", "lapor:rate:admin-login:")

_SIZE = {"stream": "XLEN", "list": "LLEN", "hash": "HLEN", "set": "SCARD", "zset": "ZCARD", "string": "STRLEN"}


async def stored(r: Any) -> dict[str, int]:
    """Key -> size (stream/list length, hash/set/zset cardinality, string length), every database key."""
    out: dict[str, int] = {}
    async for raw in r.scan_iter(count=1000):
        key = raw.decode() if isinstance(raw, bytes) else raw
        if key.startswith(BOOKKEEPING):
            continue
        kind = await r.type(key)
        kind = kind.decode() if isinstance(kind, bytes) else kind
        out[key] = int(await r.execute_command(_SIZE[kind], key)) if kind in _SIZE else -1
    return out


def stored_sync(r: Any) -> dict[str, int]:
    """``stored`` for a synchronous client."""
    out: dict[str, int] = {}
    for raw in r.scan_iter(count=1000):
        key = raw.decode() if isinstance(raw, bytes) else raw
        if key.startswith(BOOKKEEPING):
            continue
        kind = r.type(key)
        kind = kind.decode() if isinstance(kind, bytes) else kind
        out[key] = int(r.execute_command(_SIZE[kind], key)) if kind in _SIZE else -1
    return out
