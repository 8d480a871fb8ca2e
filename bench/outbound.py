"""Outbound (core → citizen) throughput and latency, end to end through real processes.

    .venv/bin/python -m bench.outbound [--messages 5000] [--paced-rate 200] [--paced-seconds 10] [--workers 1]
                                       [--channels sms,telegram]

A real redis-server (AOF everysec), ``lapor-gateway serve --workers 0`` (the outbound API) and
``lapor-gateway worker`` processes (the core-message sender), and a fake provider process serving
Kannel ``/cgi-bin/sendsms`` and the Telegram ``sendMessage`` method, which notes the arrival time
of every message. Routes of synthetic records are written with ``dispatcher.routes.write_route``
(the dispatcher's own function), one destination per record so the per-citizen cap and
Telegram's per-chat pace do not throttle the measurement.

Measured: messages/s from the first POST to the last provider call (burst of ``--messages``),
status jobs/s reaching ``lapor-core-status`` in that time, and at a paced ``--paced-rate`` the
p50/p99 from the POST to the provider call. Every number is for this machine at that moment.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import redis.asyncio as aioredis

from tests.support.redis_proc import RedisProc, free_port

TOKEN = "bench-outbound-token"
TG_TOKEN = "123456:BENCH-outbound"
ROOT = Path(__file__).resolve().parents[1]


# ------------------------------------------------------------------------------------ fake provider
def _provider(port: int) -> None:
    from aiohttp import web

    arrivals: dict[str, float] = {}
    seq = [0]

    def note(text: str) -> None:
        start = text.find("[b")
        if start >= 0:
            arrivals[text[start + 2:text.find("]", start)]] = time.time()

    async def sendsms(request: web.Request) -> web.Response:
        note(request.query.get("text", ""))
        return web.Response(status=202, text="0: Accepted for delivery")

    async def send_message(request: web.Request) -> web.Response:
        form: Any = await request.post() if request.content_type != "application/json" else await request.json()
        note(str(form.get("text", "")))
        seq[0] += 1
        return web.json_response({"ok": True, "result": {"message_id": seq[0], "date": int(time.time()),
                                                         "chat": {"id": int(form["chat_id"]), "type": "private"},
                                                         "text": form.get("text", "")}})

    async def dump(_request: web.Request) -> web.Response:
        return web.json_response(arrivals)

    app = web.Application()
    app.router.add_get("/cgi-bin/sendsms", sendsms)
    app.router.add_post(f"/bot{TG_TOKEN}/sendMessage", send_message)
    app.router.add_get("/dump", dump)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


def arrivals(port: int) -> dict[str, float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/dump", timeout=30) as resp:
        return dict(orjson.loads(resp.read()))


# ------------------------------------------------------------------------------------------- setup
async def seed_routes(r: aioredis.Redis, n: int, channel: str) -> list[str]:
    from dispatcher.routes import write_route

    ids = []
    async with r.pipeline(transaction=False) as pipe:
        for i in range(n):
            rid = f"01JBENCH{channel[:2].upper()}{i:018d}"
            address = f"+62812{i:07d}" if channel == "sms" else str(7_000_000_000 + i)
            record = {"id": rid, "channel": channel, "reply_to": {"channel": channel, "address": address,
                                                                  "thread": None, "private": True},
                      "source": {"provider": "kannel" if channel == "sms" else "telegram", "message_ids": ["1"],
                                 "recipient": "1708" if channel == "sms" else None},
                      "reporter": {}, "received_at": "2026-01-01T00:00:00Z"}
            write_route(record, 86400, pipe)
            ids.append(rid)
        await pipe.execute()
    return ids


def env_for(redis_url: str, data: Path, port: int, provider: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAPOR_")}
    env.update(LAPOR_REDIS_URL=redis_url, LAPOR_DATA_DIR=str(data), LAPOR_HTTP_PORT=str(port),
               LAPOR_HTTP_HOST="127.0.0.1", LAPOR_LOG_LEVEL="warning", LAPOR_OUTBOUND_TOKEN=TOKEN,
               LAPOR_SMS_TOKEN="bench-sms", LAPOR_KANNEL_SENDSMS_URL=f"http://127.0.0.1:{provider}/cgi-bin/sendsms",
               LAPOR_KANNEL_USERNAME="lapor", LAPOR_KANNEL_PASSWORD="kpass", LAPOR_TELEGRAM_BOT_TOKEN=TG_TOKEN,
               LAPOR_TELEGRAM_SECRET="bench-telegram-secret", LAPOR_TELEGRAM_API_URL=f"http://127.0.0.1:{provider}",
               LAPOR_TELEGRAM_POLL="false", LAPOR_TWITTER_POLL="false", LAPOR_ACK_ENABLED="false",
               LAPOR_OUTBOUND_PER_CITIZEN_PER_HOUR="1000000", PYTHONUNBUFFERED="1")
    return env


def wait_alive(port: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("gateway did not start")


# -------------------------------------------------------------------------------------------- load
async def post_all(port: int, docs: list[dict[str, Any]], rate: float | None, concurrency: int = 64
                   ) -> dict[str, float]:
    """POST every document (as fast as possible, or at ``rate``/s); returns id -> POST start time."""
    started: dict[str, float] = {}
    url = f"http://127.0.0.1:{port}/outbound/messages"
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
    t0 = time.monotonic()

    async def feed() -> None:
        for i, d in enumerate(docs):
            if rate:
                delay = t0 + i / rate - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
            await queue.put(d)
        for _ in range(concurrency):
            await queue.put(None)

    async def client(s: aiohttp.ClientSession) -> None:
        while (d := await queue.get()) is not None:
            started[d["id"]] = time.time()
            async with s.post(url, data=orjson.dumps(d), headers=headers) as resp:
                if resp.status != 202:
                    raise SystemExit(f"POST answered {resp.status}: {await resp.text()}")

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as s:
        await asyncio.gather(feed(), *(client(s) for _ in range(concurrency)))
    return started


def docs_for(prefix: str, record_ids: list[str], n: int) -> list[dict[str, Any]]:
    return [{"schema": "lapor.outbound/1", "id": f"{prefix}{i}", "record_id": record_ids[i % len(record_ids)],
             "kind": "status", "text": f"Laporan Anda sudah diteruskan ke dinas terkait. [b{prefix}{i}]"}
            for i in range(n)]


async def wait_arrived(provider: int, ids: list[str], timeout: float = 120) -> dict[str, float]:
    deadline = time.monotonic() + timeout
    while True:
        got = await asyncio.to_thread(arrivals, provider)
        if all(i in got for i in ids) or time.monotonic() > deadline:
            return got
        await asyncio.sleep(0.5)


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(p / 100 * len(values)))] if values else float("nan")


async def burst(name: str, port: int, provider: int, r: aioredis.Redis, records: list[str], n: int) -> None:
    docs = docs_for(f"{name}-", records, n)
    jobs0 = await r.llen("rq:queue:lapor-core-status")
    started = await post_all(port, docs, None)
    got = await wait_arrived(provider, [d["id"] for d in docs])
    sent_at = [got[d["id"]] for d in docs if d["id"] in got]
    if not sent_at:
        view = await r.hgetall(f"lapor:out:{docs[0]['id']}")
        hist = await r.lrange(f"lapor:out:{docs[0]['id']}:hist", 0, -1)
        raise SystemExit(f"nothing reached the provider; first message: {view.get(b'status')} {hist}")
    elapsed = max(sent_at) - min(started.values())
    await asyncio.sleep(1.0)
    jobs = await r.llen("rq:queue:lapor-core-status") - jobs0
    lat = [got[i] - started[i] for i in started if i in got]
    print(f"{name:10} burst {n} msgs: {len(sent_at) / elapsed:7.0f} msg/s end to end "
          f"(POST phase {n / (max(started.values()) - min(started.values())):7.0f}/s), "
          f"{jobs / elapsed:7.0f} status jobs/s, POST->provider p50 {pct(lat, 50) * 1000:6.0f} ms "
          f"p99 {pct(lat, 99) * 1000:6.0f} ms, missing {n - len(sent_at)}")


async def paced(name: str, port: int, provider: int, records: list[str], rate: float, seconds: float) -> None:
    docs = docs_for(f"{name}-", records, int(rate * seconds))
    started = await post_all(port, docs, rate)
    got = await wait_arrived(provider, [d["id"] for d in docs])
    lat = [got[i] - started[i] for i in started if i in got]
    print(f"{name:10} paced {rate:.0f}/s for {seconds:.0f}s: POST->provider p50 {pct(lat, 50) * 1000:6.1f} ms "
          f"p99 {pct(lat, 99) * 1000:6.1f} ms max {max(lat) * 1000:6.1f} ms, "
          f"mean {statistics.fmean(lat) * 1000:6.1f} ms, missing {len(docs) - len(lat)}")


async def main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="lapor-bench-outbound-") as tmp:
        base = Path(tmp)
        rp = RedisProc(base / "redis", aof=True).start()
        provider = free_port()
        fake = multiprocessing.get_context("spawn").Process(target=_provider, args=(provider,), daemon=True)
        fake.start()
        port = free_port()
        env = env_for(rp.url, base / "data", port, provider)
        import subprocess

        procs = [subprocess.Popen([sys.executable, "-m", "gateway.cli", "serve", "--workers", "0"], env=env,
                                  cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
        procs += [subprocess.Popen([sys.executable, "-m", "gateway.cli", "worker"], env=env, cwd=ROOT,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(args.workers)]
        r = aioredis.Redis.from_url(rp.url)
        try:
            wait_alive(port)
            sms = await seed_routes(r, 5000, "sms")
            tg = await seed_routes(r, 5000, "telegram")
            await burst("warmup", port, provider, r, sms, 500)
            if "sms" in args.channels:
                await burst("sms", port, provider, r, sms, args.messages)
                await paced("sms-paced", port, provider, sms, args.paced_rate, args.paced_seconds)
            if "telegram" in args.channels:
                await burst("telegram", port, provider, r, tg, args.messages)
                await paced("tg-paced", port, provider, tg, args.paced_rate, args.paced_seconds)
        finally:
            await r.aclose()
            for p in procs:
                p.terminate()
            for p in procs:
                p.wait(timeout=20)
            fake.terminate()
            rp.stop()


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--messages", type=int, default=5000)
    ap.add_argument("--paced-rate", type=float, default=200)
    ap.add_argument("--paced-seconds", type=float, default=10)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--channels", default="sms,telegram")
    asyncio.run(main(ap.parse_args()))
