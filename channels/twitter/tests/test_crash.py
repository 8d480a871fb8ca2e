"""kill -9 of ``lapor-gateway serve`` while it polls X: nothing lost, nothing twice in the core."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import time

import pytest

from tests.support.core import wait_for_records
from tests.support.redis_proc import free_port

OUR = "2818371708"


def mentions(start: int, n: int) -> list[dict]:
    return [{"id": str(1998000000000000000 + i), "author_id": str(3100000000000000 + i),
             "text": f"@LAPOR1708 laporan nomor {i}: jalan rusak", "created_at": "2026-01-01T00:00:00.000Z",
             "entities": {"mentions": [{"start": 0, "end": 10, "username": "LAPOR1708", "id": OUR}]}}
            for i in range(start, start + n)]


def serve(fakex, redis_url: str, data_dir) -> subprocess.Popen[bytes]:
    env = dict(os.environ, LAPOR_REDIS_URL=redis_url, LAPOR_DATA_DIR=str(data_dir),
               LAPOR_HTTP_PORT=str(free_port()), LAPOR_WORKERS="1", LAPOR_ACK_ENABLED="false",
               LAPOR_TWITTER_API_URL=fakex.url, LAPOR_TWITTER_BEARER_TOKEN=fakex.creds.bearer,
               LAPOR_TWITTER_USER_ID=OUR, LAPOR_TWITTER_CONSUMER_SECRET="s", LAPOR_TWITTER_POLL="true",
               LAPOR_TWITTER_POLL_INTERVAL_S="0.3", LAPOR_TWITTER_BACKFILL_S="0", LAPOR_LOG_LEVEL="warning")
    return subprocess.Popen([sys.executable, "-m", "gateway.cli", "serve"], env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@pytest.mark.slow
async def test_kill_9_while_polling_loses_and_duplicates_nothing(fakex, redis_url, rsync, tmp_path):
    rng = random.Random(1708)
    fakex.load({"data": mentions(0, 250), "includes": {}})
    fakex.delay_s = 0.05
    total = 250
    for _round in range(6):
        proc = serve(fakex, redis_url, tmp_path / "data")
        calls = len(fakex.calls("mentions"))
        deadline = time.monotonic() + 30
        while len(fakex.calls("mentions")) <= calls and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        await asyncio.sleep(rng.uniform(0.0, 0.4))  # somewhere in fetch / store / checkpoint / dispatch
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        fakex.add(mentions(total, 40))  # more mentions while we are down
        total += 40
    proc = serve(fakex, redis_url, tmp_path / "data")
    try:
        records = await asyncio.to_thread(wait_for_records, rsync, total, 60.0)
        await asyncio.sleep(2)  # would a duplicate still arrive?
        records = await asyncio.to_thread(wait_for_records, rsync, total, 5.0)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    keys = [rec["idempotency_key"] for rec in records]
    assert len(keys) == len(set(keys)) == total
    assert set(keys) == {f"twitter:{1998000000000000000 + i}" for i in range(total)}
