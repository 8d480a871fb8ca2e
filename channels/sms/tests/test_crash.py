"""Reassembly survives kill -9 of a real worker process (``python -m gateway.cli worker``)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

from channels.sms.tests.conftest import eventually
from channels.sms.tests.test_kannel import get_url
from tests.support.core import core_job_ids, wait_for_records

ROOT = Path(__file__).resolve().parents[3]


def start_worker(redis_url: str, tmp: Path) -> subprocess.Popen[bytes]:
    env = dict(os.environ, LAPOR_REDIS_URL=redis_url, LAPOR_DATA_DIR=str(tmp / "wdata"), LAPOR_CLAIM_IDLE_MS="300",
               LAPOR_ACK_ENABLED="false", LAPOR_LOG_FORMAT="json")
    return subprocess.Popen([sys.executable, "-m", "gateway.cli", "worker"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def kill9(p: subprocess.Popen[bytes]) -> None:
    os.kill(p.pid, signal.SIGKILL)
    p.wait(10)


async def test_worker_kill_9_mid_reassembly_gives_one_complete_record(gateway, r, rsync, redis_url, tmp_path):
    parts = [b"Sudah+tiga+bulan+", b"jembatan+desa+putus+", b"dan+belum+diperbaiki."]
    url = [get_url(kid=f"kc-{i}", udh=bytes([5, 0, 3, 0x55, 3, i]), data=d) for i, d in enumerate(parts, 1)]
    for u in url[:2]:
        assert (await gateway.get(u))[0] == 202
    w1 = start_worker(redis_url, tmp_path)
    try:
        async def held() -> bool:
            keys = [k for k in await r.keys("lapor:sms:mp:{*}") if not k.endswith(b":done")]
            return bool(keys) and await r.hlen(keys[0]) == 2

        await eventually(held, timeout=30)
    finally:
        kill9(w1)  # the worker dies holding two of three parts
    assert (await gateway.get(url[2]))[0] == 202
    assert (await gateway.get(get_url(kid="kc-2-again", udh=bytes([5, 0, 3, 0x55, 3, 2]), data=parts[1])))[0] == 202
    w2 = start_worker(redis_url, tmp_path)
    await asyncio.sleep(0.3)
    kill9(w2)  # and the next one dies too, maybe in the middle of completing the set
    w3 = start_worker(redis_url, tmp_path)
    try:
        (rec,) = await asyncio.to_thread(wait_for_records, rsync, 1, 40.0)
        await asyncio.sleep(1.5)
        assert len(core_job_ids(rsync)) == 1
    finally:
        w3.terminate()
        w3.wait(10)
    assert rec["original_text"] == "Sudah tiga bulan jembatan desa putus dan belum diperbaiki."
    assert rec["source"]["message_ids"] == ["kannel:kc-1", "kannel:kc-2", "kannel:kc-3"]
    assert "multipart_incomplete" not in rec["flags"]
    assert await r.xlen("lapor:dead") == 0
