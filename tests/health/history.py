"""Write a channel's past volume through the real metrics path (buffer → flush → Redis buckets)."""

from __future__ import annotations

from collections.abc import Callable

import redis.asyncio as aioredis

from gateway import metrics

HOUR = 3600
DAY = 86400


async def seed(r: aioredis.Redis, channel: str, start: float, end: float, per_hour: Callable[[int], int],
               outcome: str = "received") -> int:
    """``per_hour(hour_start)`` messages in every hour of ``[start, end)``; returns the total written."""
    total = 0
    h = int(start // HOUR) * HOUR
    while h < end:
        n = per_hour(h)
        if n:
            metrics.record_at(channel, outcome, n, at=h + 60)
            total += n
        h += HOUR
    await metrics.flush(r)
    return total


def office_hours(per_hour: int) -> Callable[[int], int]:
    """``per_hour`` from 08:00 to 17:00 WIB (01:00–10:00 UTC), nothing at night."""
    return lambda h: per_hour if 1 <= (h // HOUR) % 24 < 10 else 0
