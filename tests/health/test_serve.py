"""``lapor-gateway serve`` with a worker subprocess: the worker's counts reach the gateway's /metrics."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from tests.support.fixtures import TOKENS
from tests.support.redis_proc import free_port


async def test_worker_process_metrics_show_up_at_the_gateway(redis_url, tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAPOR_")}
    env.update({f"LAPOR_{k.upper()}": v for k, v in TOKENS.items()})
    env.update(LAPOR_REDIS_URL=redis_url, LAPOR_DATA_DIR=str(tmp_path / "data"), LAPOR_HTTP_PORT=str(port),
               LAPOR_LOG_FORMAT="json", LAPOR_WORKERS="1")
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "gateway.cli", "serve", env=env,
                                                stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as s:
            deadline = time.monotonic() + 30
            while True:
                try:
                    async with s.get(url + "/healthz") as resp:
                        if resp.status == 200:
                            break
                except aiohttp.ClientError:
                    pass
                assert time.monotonic() < deadline, "serve did not come up"
                await asyncio.sleep(0.2)
            auth = {"Authorization": "Bearer test-http-token"}
            for i in range(3):
                body = {"id": f"s-{i}", "text": "Air PDAM mati.", "reporter": {"phone": "0811"}}
                async with s.post(url + "/channels/http/complaints", headers=auth, json=body) as resp:
                    assert resp.status == 202
            dispatched = 0.0
            while dispatched < 3:
                assert time.monotonic() < deadline + 30, "worker counts never reached /metrics"
                await asyncio.sleep(0.5)
                async with s.get(url + "/metrics") as resp:
                    text = await resp.text()
                for fam in text_string_to_metric_families(text):
                    for smp in fam.samples:
                        if smp.name == "lapor_dispatched_total" and smp.labels.get("channel") == "api":
                            dispatched = smp.value
            assert dispatched == 3  # counted in the worker process, flushed to Redis, read by the gateway
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(proc.wait(), 20)
        except TimeoutError:
            proc.kill()
            await proc.wait()
