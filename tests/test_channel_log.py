"""The channel log: capped per channel, newest first, kept in memory while Redis is down."""

from __future__ import annotations

from pathlib import Path

import pytest
import redis.asyncio as aioredis
import redis.exceptions

from gateway.channel_log import ChannelLog
from tests.support.redis_proc import RedisProc


async def test_only_the_newest_rows_are_kept_and_built(r: aioredis.Redis) -> None:
    log = ChannelLog(r, size=10)
    for i in range(25):
        log.record("api", status=202, latency_ms=i / 3, method="POST", path="/channels/http/complaints",
                   stored=1, duplicates=0)
    await log.flush()
    rows = await log.recent("api", 50)
    assert [row["ms"] for row in rows] == [round(i / 3, 2) for i in range(24, 14, -1)]
    assert rows[0]["stored"] == 1 and "duplicates" not in rows[0]  # zero counts are left out
    assert rows[0]["path"] == "/channels/http/complaints" and rows[0]["error"] is None


async def test_rows_survive_a_failed_flush_newest_kept(tmp_path: Path) -> None:
    proc = RedisProc(tmp_path / "redis").start()
    client = aioredis.Redis.from_url(proc.url, socket_timeout=2)
    log = ChannelLog(client, size=5)
    try:
        for i in range(3):
            log.record("sms", status=202, latency_ms=float(i))
        proc.stop()
        with pytest.raises((redis.exceptions.RedisError, OSError)):
            await log.flush()
        for i in range(3, 7):
            log.record("sms", status=202, latency_ms=float(i))
        proc.start()
        await log.flush()
        rows = await log.recent("sms", 50)
        assert [row["ms"] for row in rows] == [6.0, 5.0, 4.0, 3.0, 2.0]
    finally:
        await client.aclose()
        proc.stop()
