"""``lapor-gateway status``: the health table in a terminal, exit code for monitoring scripts."""

from __future__ import annotations

import asyncio
import os
import sys
import time

import orjson

from gateway import metrics
from tests.health.history import DAY, HOUR, seed
from tests.support.fixtures import TOKENS


async def status(redis_url: str, tmp_path, *args: str, **env: str) -> tuple[int, str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith("LAPOR_")}
    full.update({f"LAPOR_{k.upper()}": v for k, v in TOKENS.items()})
    full.update(LAPOR_REDIS_URL=redis_url, LAPOR_DATA_DIR=str(tmp_path / "data"), LAPOR_LOG_FORMAT="json", **env)
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "gateway.cli", "status", *args, env=full,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode() + err.decode()


async def test_failing_without_workers(redis_url, tmp_path):
    code, out = await status(redis_url, tmp_path)
    assert code == 2
    assert "pipeline  FAILING  no dispatcher worker alive" in out
    assert out.splitlines()[0].split()[:3] == ["CHANNEL", "STATE", "LAST"]


async def test_ok_table_and_json(gateway, tmp_path, redis_url):
    await gateway.start_worker()
    deadline = time.monotonic() + 20
    while not await gateway.ctx.redis.zcard("lapor:workers"):
        assert time.monotonic() < deadline
        await asyncio.sleep(0.1)
    metrics.count("api", "received", 3)
    await metrics.flush(gateway.ctx.redis)
    # run from a shell that has none of the gateway's secrets: it shows what the gateway serves
    code, out = await status(redis_url, tmp_path, LAPOR_SMS_TOKEN="", LAPOR_HTTP_TOKEN="")
    assert code == 0, out
    rows = {line.split()[0]: line for line in out.splitlines() if line and not line.startswith(" ")}
    assert rows["api"].split()[1] == "ok" and rows["api"].split()[3] == "3"
    assert rows["sms"].split()[1] == "ok" and "not set" not in rows["sms"]
    code, out = await status(redis_url, tmp_path, "--json")
    doc = orjson.loads(out.strip().splitlines()[-1])
    assert code == 0 and doc["pipeline"]["state"] in ("ok", "degraded") and doc["problems"] == []


async def test_silent_exits_1_and_redis_down_exits_2(gateway, tmp_path, redis_url, r):
    await gateway.start_worker()
    now = time.time()
    await seed(r, "telegram", now - 14 * DAY, now - HOUR, lambda h: 30)
    code, out = await status(redis_url, tmp_path)
    assert code == 1, out
    assert "SILENT" in next(line for line in out.splitlines() if line.startswith("telegram"))
    code, out = await status("redis://127.0.0.1:1/0", tmp_path)
    assert code == 2 and "Redis unreachable" in out
