"""Shared driver of the signed-webhook throughput benchmarks (bench/meta.py, bench/whatsapp.py).

Both post ``X-Hub-Signature-256``-signed JSON to one webhook path and differ only in the
payload, the secret and the settings, so one driver serves both: the gateway runs in its own
process (the real app, no dispatcher workers: this measures the webhook path up to the durable
200), against a real ``redis-server`` with AOF ``everysec``. The client keeps ``--connections``
requests in flight and reports events/s stored and the latency of each delivery (p50/p99).
Every stored event is counted afterwards with ``XLEN``.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import redis

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


@dataclass(frozen=True)
class WebhookBench:
    """What one channel's benchmark brings: its script, webhook path, app secret, payloads."""

    script: str  # the channel's bench file: re-run with --serve as the gateway process
    path: str
    secret: str
    delivery: Callable[[str, int, int], bytes]  # (run id, first index, batch size) -> body
    settings: dict[str, Any] = field(default_factory=dict)  # extra Settings(...) fields


def serve(bench: WebhookBench, port: int, redis_url: str, data_dir: str) -> None:
    from aiohttp import web

    from config.settings import Settings
    from gateway.app import build_app
    from gateway.logging import configure_logging

    settings = Settings(redis_url=redis_url, data_dir=Path(data_dir), log_level="warning", **bench.settings)
    configure_logging("console", "warning")
    web.run_app(build_app(settings, redis_url), host="127.0.0.1", port=port, access_log=None, print=None)


async def run(bench: WebhookBench, port: int, batch: int, events: int, connections: int,
              run_id: str) -> dict[str, float]:
    requests = events // batch
    bodies = [bench.delivery(run_id, i * batch, batch) for i in range(requests)]
    signed = [(b, "sha256=" + hmac.new(bench.secret.encode(), b, hashlib.sha256).hexdigest()) for b in bodies]
    latencies: list[float] = []
    failed = 0
    queue: asyncio.Queue[tuple[bytes, str]] = asyncio.Queue()
    for item in signed:
        queue.put_nowait(item)
    url = f"http://127.0.0.1:{port}{bench.path}"
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=connections)) as session:
        async def worker() -> None:
            nonlocal failed
            while not queue.empty():
                body, sig = queue.get_nowait()
                t0 = time.perf_counter()
                async with session.post(url, data=body, headers={
                        "Content-Type": "application/json", "X-Hub-Signature-256": sig}) as resp:
                    await resp.read()
                    ok = resp.status == 200
                latencies.append(time.perf_counter() - t0)
                failed += not ok

        t0 = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(connections)))
        wall = time.perf_counter() - t0
    latencies.sort()
    return {"batch": batch, "requests": requests, "events": requests * batch, "failed": failed,
            "wall_s": round(wall, 2), "events_per_s": round(requests * batch / wall, 1),
            "requests_per_s": round(requests / wall, 1),
            "p50_ms": round(latencies[len(latencies) // 2] * 1000, 2),
            "p99_ms": round(latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))] * 1000, 2)}


def main(bench: WebhookBench, doc: str | None) -> None:
    ap = argparse.ArgumentParser(description=doc)
    ap.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--redis-url", default="")
    ap.add_argument("--data-dir", default="")
    ap.add_argument("--events", type=int, default=10_000, help="events per batch size")
    ap.add_argument("--connections", type=int, default=32)
    args = ap.parse_args()
    if args.serve:
        serve(bench, args.port, args.redis_url, args.data_dir)
        return

    from tests.support.redis_proc import RedisProc, free_port

    with tempfile.TemporaryDirectory() as tmp:
        rp = RedisProc(Path(tmp) / "redis", aof=True).start()  # AOF everysec, as in production
        port = free_port()
        server = subprocess.Popen([sys.executable, bench.script, "--serve", "--port", str(port), "--redis-url", rp.url,
                                   "--data-dir", str(Path(tmp) / "data")], cwd=ROOT,
                                  env={**os.environ, "PYTHONPATH": str(ROOT)})
        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                try:
                    import urllib.request
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
                    break
                except OSError:
                    if server.poll() is not None:
                        raise SystemExit("the gateway process exited") from None
                    time.sleep(0.2)
            client = redis.Redis.from_url(rp.url)
            asyncio.run(run(bench, port, 1, 500, args.connections, "warmup"))
            results = []
            for batch in (1, 50):
                before = client.xlen("lapor:inbound")
                res = asyncio.run(run(bench, port, batch, args.events, args.connections, f"b{batch}"))
                res["stored"] = client.xlen("lapor:inbound") - before
                results.append(res)
                print(json.dumps(res), flush=True)
            print("\n| batch | deliveries | events stored | events/s | deliveries/s | p50 ms | p99 ms | failed |")
            print("|---:|---:|---:|---:|---:|---:|---:|---:|")
            for x in results:
                print(f"| {x['batch']} | {x['requests']} | {x['stored']} | {x['events_per_s']} | "
                      f"{x['requests_per_s']} | {x['p50_ms']} | {x['p99_ms']} | {x['failed']} |")
        finally:
            server.terminate()
            server.wait(10)
            rp.stop()

