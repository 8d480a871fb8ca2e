"""Benchmark of the X channel: webhook events/s stored, and poller pages/s stored.

Real parts on loopback: a redis-server (AOF everysec, as in production), the real aiohttp app
(one process), the fake X API of the tests for the poller. Numbers, not a pass/fail test.

    PYTHONPATH=. .venv/bin/python bench/twitter.py [--events 5000] [--concurrency 50] [--batch 20] [--pages 60]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
import redis.asyncio as aioredis
from aiohttp import web

from channels.twitter.poller import MentionsPoller
from channels.twitter.signature import sign
from channels.twitter.tests.fakex import FakeX
from config.settings import Settings
from gateway.context import ctx_of
from tests.support.fixtures import GatewayUnderTest
from tests.support.redis_proc import RedisProc

SECRET = "bench-consumer-secret"
OUR_ID = "2818371708"


def tweet_v1(n: int) -> dict[str, Any]:
    return {"id_str": str(1990000000000000000 + n), "created_at": "Sat Nov 22 08:00:00 +0000 2025",
            "text": f"@LAPOR1708 jalan rusak di RT {n % 20} dekat pasar, mohon segera diperbaiki #jalan",
            "user": {"id_str": str(3000000000000000 + n % 997), "screen_name": f"warga{n % 997}", "name": "Warga"},
            "entities": {"user_mentions": [{"id_str": OUR_ID, "screen_name": "LAPOR1708", "indices": [0, 10]}],
                         "hashtags": [{"text": "jalan"}], "urls": []}, "lang": "in"}


def tweet_v2(n: int) -> dict[str, Any]:
    return {"id": str(1995000000000000000 + n), "author_id": str(3000000000000000 + n % 997),
            "text": f"@LAPOR1708 lampu jalan mati di gang {n % 50}, sudah seminggu #PJU",
            "created_at": "2025-11-22T08:00:00.000Z", "conversation_id": str(1995000000000000000 + n), "lang": "in",
            "entities": {"mentions": [{"start": 0, "end": 10, "username": "LAPOR1708", "id": OUR_ID}],
                         "hashtags": [{"start": 50, "end": 54, "tag": "PJU"}]}}


def _client_process(url: str, bodies: list[tuple[bytes, str]], concurrency: int, results: Any) -> None:
    """POST every signed body with ``concurrency`` connections; report (errors, seconds)."""

    async def run() -> tuple[int, float]:
        queue: asyncio.Queue[tuple[bytes, str]] = asyncio.Queue()
        for b in bodies:
            queue.put_nowait(b)
        errors = 0

        async def client(session: aiohttp.ClientSession) -> None:
            nonlocal errors
            while not queue.empty():
                body, sig = queue.get_nowait()
                async with session.post(url + "/channels/twitter/webhook", data=body, headers={
                        "Content-Type": "application/json", "x-twitter-webhooks-signature": sig}) as resp:
                    await resp.read()
                    errors += resp.status != 200

        t0 = time.perf_counter()
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as session:
            await asyncio.gather(*(client(session) for _ in range(concurrency)))
        return errors, time.perf_counter() - t0

    results.put(asyncio.run(run()))


async def bench_webhook(url: str, r: aioredis.Redis, events: int, concurrency: int, batch: int,
                        offset: int = 0) -> dict[str, float]:
    bodies = []
    for start in range(offset, offset + events, batch):
        end = min(offset + events, start + batch)
        doc = {"for_user_id": OUR_ID, "tweet_create_events": [tweet_v1(n) for n in range(start, end)]}
        body = json.dumps(doc, separators=(",", ":")).encode()
        bodies.append((body, sign(body, SECRET)))
    before = await r.xlen("lapor:inbound")
    # the load generator runs in its own process, as the provider would
    ctx = multiprocessing.get_context("spawn")
    results: Any = ctx.Queue()
    proc = ctx.Process(target=_client_process, args=(url, bodies, concurrency, results))
    proc.start()
    errors, elapsed = await asyncio.to_thread(results.get)
    await asyncio.to_thread(proc.join)
    stored = await r.xlen("lapor:inbound") - before
    return {"posts": len(bodies), "events": events, "stored": stored, "errors": errors, "seconds": elapsed,
            "events_per_s": stored / elapsed, "posts_per_s": len(bodies) / elapsed}


async def bench_poller(app: web.Application, fx: FakeX, r: aioredis.Redis, pages: int) -> dict[str, float]:
    n = pages * 100
    fx.timeline = [tweet_v2(i) for i in range(n)][::-1]
    fx.includes = {"users": [{"id": str(3000000000000000 + k), "username": f"warga{k}", "name": "Warga"}
                             for k in range(997)]}
    fx.reachable = n  # X caps the timeline at 800; lifted here to measure the steady rate
    poller = MentionsPoller(ctx_of(app))
    poller.reachable = n
    before = await r.xlen("lapor:inbound")
    t0 = time.perf_counter()
    stored = await poller.poll_once(OUR_ID)
    elapsed = time.perf_counter() - t0
    assert await r.xlen("lapor:inbound") - before == stored == n, "poller did not store every tweet"
    return {"pages": pages, "tweets": n, "stored": stored, "seconds": elapsed, "pages_per_s": pages / elapsed,
            "tweets_per_s": stored / elapsed}


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=5000)
    ap.add_argument("--concurrency", type=int, default=50)
    ap.add_argument("--batch", type=int, default=1, help="events per webhook POST")
    ap.add_argument("--pages", type=int, default=60)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-twitter-"))
    rp = RedisProc(tmp / "redis", aof=True).start()
    fx = await FakeX(user_id=OUR_ID).start()
    settings = Settings(redis_url=rp.url, data_dir=tmp / "data", twitter_consumer_secret=SECRET,
                        twitter_bearer_token=fx.creds.bearer, twitter_user_id=OUR_ID, twitter_api_url=fx.url,
                        twitter_poll=False, twitter_backfill_s=0, log_level="warning")
    gw = await GatewayUnderTest(settings).start()
    r = aioredis.Redis.from_url(rp.url)
    try:
        wh1 = await bench_webhook(gw.url, r, args.events, args.concurrency, args.batch)
        print(f"webhook, {args.batch} event(s)/POST, {args.concurrency} concurrent: "
              f"{wh1['events_per_s']:.0f} events/s stored ({wh1['stored']:.0f} in {wh1['seconds']:.2f}s, "
              f"{wh1['posts_per_s']:.0f} POST/s, errors {wh1['errors']:.0f})")
        wh2 = await bench_webhook(gw.url, r, args.events, args.concurrency, 20,
                                  offset=args.events)
        print(f"webhook, 20 events/POST, {args.concurrency} concurrent: "
              f"{wh2['events_per_s']:.0f} events/s stored ({wh2['stored']:.0f} in {wh2['seconds']:.2f}s, "
              f"errors {wh2['errors']:.0f})")
        po = await bench_poller(gw.app, fx, r, args.pages)
        print(f"poller, 100 tweets/page: {po['pages_per_s']:.1f} pages/s = {po['tweets_per_s']:.0f} tweets/s stored "
              f"({po['pages']:.0f} pages in {po['seconds']:.2f}s)")
    finally:
        await r.aclose()
        await gw.stop()
        await fx.stop()
        rp.stop()


if __name__ == "__main__":
    asyncio.run(main())
