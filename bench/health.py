"""Benchmark of the health machinery: what metrics cost the webhook path, and what health costs to compute.

Starts its own redis-server on a free loopback port and the real gateway app; prints a table.
Run: ``.venv/bin/python bench/health.py [--requests 20000] [--concurrency 50]``
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


from config.settings import Settings
from gateway import metrics
from gateway.health_model import HealthModel
from tests.support.fixtures import GatewayUnderTest
from tests.support.redis_proc import RedisProc

CHANNELS = ("api", "sms", "meta", "facebook", "instagram", "twitter", "telegram", "email")


def bench_count(n: int = 1_000_000) -> float:
    t0 = time.perf_counter()
    for i in range(n):
        metrics.count(CHANNELS[i & 7], "received")
    dt = time.perf_counter() - t0
    metrics._buf = metrics._Buffer()  # counts of an earlier run must not land in this one
    return dt / n * 1e9


async def bench_flush(r, rounds: int = 50) -> tuple[float, int]:
    times = []
    for _ in range(rounds):
        for ch in CHANNELS:
            for outcome in ("received", "stored", "duplicate", "rejected_auth", "skipped_echo"):
                metrics.count(ch, outcome, 3)
            metrics.ACCEPT_LATENCY.labels(ch).observe(0.004)
        t0 = time.perf_counter()
        await metrics.flush(r)
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000, len(CHANNELS) * 5


async def seed_history(r, days: int = 28) -> int:
    now = time.time()
    n = 0
    for ch in CHANNELS:
        h = int((now - days * 86400) // 3600) * 3600
        while h < now:
            metrics.record_at(ch, "received", 50, at=h + 60)
            n += 1
            h += 3600
        for m in range(int(now - 6 * 3600), int(now), 60):
            metrics.record_at(ch, "received", 1, at=m)
    await metrics.flush(r)
    return n


async def load(url: str, requests: int, concurrency: int, prefix: str) -> float:
    body = {"text": "Jalan berlubang di depan sekolah.", "reporter": {"phone": "081100000001"}}
    headers = {"Authorization": "Bearer bench-token"}
    counter = iter(range(requests))
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as s:
        async def worker() -> None:
            for i in counter:
                async with s.post(url + "/channels/http/complaints", json=dict(body, id=f"{prefix}-{i}"),
                                  headers=headers) as resp:
                    assert resp.status == 202, resp.status
                    await resp.read()

        t0 = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return requests / (time.perf_counter() - t0)


async def timed(fn, n: int) -> float:
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        await fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000


async def main(args: argparse.Namespace) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="bench-health-"))
    rp = RedisProc(tmp / "redis").start()
    try:
        import redis.asyncio as aioredis

        r = aioredis.Redis.from_url(rp.url)
        print(f"metrics.count() in-memory: {bench_count():.0f} ns/call")
        ms, series = await bench_flush(r)
        print(f"flush of {series} channel/outcome series + histograms: {ms:.2f} ms median (one pipeline)")
        hours = await seed_history(r)
        print(f"seeded {hours} channel-hours (4 weeks x {len(CHANNELS)} channels) + 6 h of minutes")
        settings = Settings(redis_url=rp.url, data_dir=tmp / "data", http_token="bench-token", admin_token="adm",
                            sms_token="x", meta_app_secret="x", meta_verify_token="x", twitter_consumer_secret="x",
                            telegram_secret="x", email_token="x")
        model = HealthModel(settings, r)
        print(f"HealthModel.report() (6 cards, 4 weeks history): {await timed(model.report, 20):.1f} ms median")

        gw = await GatewayUnderTest(settings).start()
        url = gw.url
        async with aiohttp.ClientSession() as s:
            async def get(path: str) -> None:
                async with s.get(url + path, headers={"Authorization": "Bearer adm"}) as resp:
                    assert resp.status == 200
                    await resp.read()

            await asyncio.sleep(1.1)
            print(f"GET /metrics: {await timed(lambda: get('/metrics'), 20):.1f} ms median")

            async def health() -> None:
                await asyncio.sleep(1.01)  # past the 1 s report cache
                await get("/admin/api/health")

            print(f"GET /admin/api/health (uncached): {await timed(health, 5) - 1010:.1f} ms median")
        await load(url, 1000, args.concurrency, "warm")  # warm-up
        rate = await load(url, args.requests, args.concurrency, "run")
        print(f"POST /channels/http/complaints, one process, {args.concurrency} concurrent: {rate:.0f} req/s "
              f"(with counting + 1 s flusher + alert loop running)")
        await asyncio.sleep(1.5)
        snap = await metrics.read_snapshot(r)
        stored = metrics.counter_value(snap, "lapor_channel_events", "api", "stored")
        expected = args.requests + 1000 + 150  # + warm-up + what the flush bench counted
        print(f"counted stored (api) after the run: {stored:.0f} (expected {expected})")
        await gw.stop()
        await r.aclose()
    finally:
        rp.stop()


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--requests", type=int, default=20000)
    p.add_argument("--concurrency", type=int, default=50)
    asyncio.run(main(p.parse_args()))
