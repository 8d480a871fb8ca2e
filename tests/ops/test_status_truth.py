"""`status` and the dashboard read what running gateways publish; `status --worker` is a true healthcheck."""

from __future__ import annotations

import asyncio
import os
import sys
import time

import orjson

from gateway.presence import PREFIX, TTL_S, read_gateways
from tests.support.fixtures import TOKENS


async def run_cli(redis_url: str, tmp_path, *args: str, **env: str) -> tuple[int, str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith("LAPOR_")}
    full.update(LAPOR_REDIS_URL=redis_url, LAPOR_DATA_DIR=str(tmp_path / "data"), LAPOR_LOG_FORMAT="json", **env)
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "gateway.cli", *args, env=full,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode() + err.decode()


async def test_running_gateways_publish_their_channels_with_a_ttl(make_gateway, r):
    gw = await make_gateway(sms_token=None)
    (doc,) = await read_gateways(r)
    chans = {c["name"]: c for c in doc["channels"]}
    assert chans["api"]["enabled"] and not chans["sms"]["enabled"]
    assert "LAPOR_SMS_TOKEN" in chans["sms"]["reason"]
    key = PREFIX + doc["instance"]
    assert 0 < await r.ttl(key) <= TTL_S  # a dead gateway's claim expires
    await gw.stop()
    assert await r.exists(key) == 0  # a clean stop withdraws it at once


async def test_status_from_a_bare_shell_shows_what_the_gateway_serves(make_gateway, redis_url, tmp_path):
    gw = await make_gateway(sms_token=None)
    await gw.start_worker()
    while not await gw.ctx.redis.zcard("lapor:workers"):
        await asyncio.sleep(0.05)
    # the shell has the SMS token but no HTTP token: the opposite of the gateway
    code, out = await run_cli(redis_url, tmp_path, "status", "--json", LAPOR_SMS_TOKEN="set-here-only")
    doc = orjson.loads(out.strip().splitlines()[-1])
    cards = {c["channel"]: c for c in doc["channels"]}
    assert cards["api"]["state"] != "disabled"
    assert cards["sms"]["state"] == "disabled" and "LAPOR_SMS_TOKEN" in cards["sms"]["reason"]
    assert doc["pipeline"]["numbers"]["gateways_alive"] == 1 and code == 0


async def test_worker_healthcheck_tells_the_truth(gateway, redis_url, tmp_path):
    code, out = await run_cli(redis_url, tmp_path, "status", "--worker")
    assert code == 2 and "no dispatcher" in out
    await gateway.start_worker()  # in this process: consumer <hostname>-<pid>-…
    deadline = time.monotonic() + 10
    while not await gateway.ctx.redis.zcard("lapor:workers"):
        assert time.monotonic() < deadline
        await asyncio.sleep(0.05)
    code, out = await run_cli(redis_url, tmp_path, "status", "--worker")
    assert code == 0 and "1 dispatcher(s) alive" in out
    code, out = await run_cli("redis://127.0.0.1:1/0", tmp_path, "status", "--worker")
    assert code == 2 and "redis unreachable" in out


async def test_exit_codes_and_version(redis_url, tmp_path):
    from config.version import __version__

    code, out = await run_cli(redis_url, tmp_path, "--version")
    assert code == 0 and out.strip() == f"lapor-gateway {__version__}"
    code, out = await run_cli(redis_url, tmp_path, "status", LAPOR_ADMIN_TOKEN=TOKENS["admin_token"][:10])
    assert code == 3 and "LAPOR_ADMIN_TOKEN" in out
    code, out = await run_cli(redis_url, tmp_path, "status", "--help")
    assert code == 0 and "1 silent, 2 failing" in " ".join(out.split())
