"""Telegram channel throughput: updates/s stored (webhook and long polling), records/s dispatched.

    .venv/bin/python -m bench.telegram_bench [--updates 20000] [--connections 32]

1. webhook: the real gateway app in a child process (one process, real redis-server on loopback),
   a keep-alive aiohttp client POSTing real-shaped Updates with the secret header; counts what
   intake stored in ``lapor:inbound``.
2. dispatch: one DispatchWorker with the Telegram conversation hook (every chat: text, photo,
   location → one record and two follow-ups) moving that stream into the core RQ queue.
3. polling: the long-polling service against a local fake Bot API serving batches of 100.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import aiohttp
import orjson
import redis.asyncio as aioredis

from tests.support.redis_proc import RedisProc, free_port

TOKEN = "123456:BENCH-telegram-token"
SECRET = "bench-telegram-secret"
T0 = 1763800000


def make_update(i: int) -> dict[str, Any]:
    chat = 5_000_000_000 + i // 3
    msg: dict[str, Any] = {"message_id": 100 + i % 3, "date": T0 + (i % 3) * 20,
                           "from": {"id": chat, "is_bot": False, "first_name": "Warga", "language_code": "id"},
                           "chat": {"id": chat, "type": "private", "first_name": "Warga"}}
    kind = i % 3
    if kind == 0:
        msg["text"] = f"Jalan berlubang di depan SDN {i} Sukamaju, sudah sebulan tidak diperbaiki."
    elif kind == 1:
        msg["caption"] = "ini fotonya"
        msg["photo"] = [{"file_id": f"AgACs{i}", "file_unique_id": f"s{i}", "width": 90, "height": 67,
                         "file_size": 1400},
                        {"file_id": f"AgACm{i}", "file_unique_id": f"m{i}", "width": 1280, "height": 960,
                         "file_size": 98000}]
    else:
        msg["location"] = {"latitude": -6.9 - i / 1e6, "longitude": 107.6}
    return {"update_id": 900_000_000 + i, "message": msg}


def settings(redis_url: str, data_dir: str, **kw: Any) -> Any:
    from config.settings import Settings

    return Settings(redis_url=redis_url, data_dir=Path(data_dir), telegram_bot_token=TOKEN,
                    telegram_secret=SECRET, http_token=SECRET, ack_enabled=False, log_level="warning", **kw)


def serve(redis_url: str, data_dir: str, port: int) -> None:
    from aiohttp import web

    from gateway.app import build_app
    from gateway.logging import configure_logging

    s = settings(redis_url, data_dir)
    configure_logging(level="warning")
    web.run_app(build_app(s, redis_url), host="127.0.0.1", port=port, print=None, access_log=None)


async def webhook_phase(port: int, n: int, connections: int, baseline: bool = False) -> float:
    """POST n Telegram updates; ``baseline``: n generic-API complaints instead, same client, same app."""
    if baseline:
        bodies = [orjson.dumps({"id": f"bench-{i}", "text": "Jalan berlubang di depan SDN Sukamaju.",
                                "reporter": {"id": f"u{i}"}}) for i in range(n)]
        headers = {"Authorization": f"Bearer {SECRET}", "Content-Type": "application/json"}
        url = f"http://127.0.0.1:{port}/channels/http/complaints"
    else:
        bodies = [orjson.dumps(make_update(i)) for i in range(n)]
        headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET, "Content-Type": "application/json"}
        url = f"http://127.0.0.1:{port}/channels/telegram/webhook"
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=connections)) as session:
        for _ in range(50):  # wait for the child
            try:
                async with session.get(f"http://127.0.0.1:{port}/healthz") as resp:
                    if resp.status == 200:
                        break
            except aiohttp.ClientError:
                await asyncio.sleep(0.1)
        it = iter(bodies)
        failed = 0

        async def client() -> None:
            nonlocal failed
            for body in it:
                async with session.post(url, data=body, headers=headers) as resp:
                    await resp.read()
                    if resp.status not in (200, 202):
                        failed += 1

        t = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(connections)))
        elapsed = time.perf_counter() - t
    if failed:
        print(f"  webhook: {failed} requests failed")
    return elapsed


async def dispatch_phase(redis_url: str, data_dir: str, n_records: int, hook: bool = True) -> float:
    """Stream → core; ``hook=False`` re-reads the same stream without the conversation hook (baseline)."""
    from channels.telegram.hooks import ConversationPreprocessor
    from dispatcher.worker import DispatchWorker
    from gateway import keys

    s = settings(redis_url, data_dir)
    r = aioredis.Redis.from_url(redis_url)
    if not hook:  # forget the first pass: group, exactly-once markers, core queue
        await r.xgroup_destroy(keys.INBOUND_STREAM, keys.DISPATCH_GROUP)
        for pattern in ("lapor:enq:*", "rq:*"):
            async for k in r.scan_iter(match=pattern, count=1000):
                await r.delete(k)
    worker = DispatchWorker(r, s, preprocessors=[ConversationPreprocessor(s)] if hook else [])
    task = asyncio.create_task(worker.run())
    t = time.perf_counter()
    while await r.llen(f"rq:queue:{s.core_queue}") < n_records:
        await asyncio.sleep(0.05)
        if time.perf_counter() - t > 600:
            break
    elapsed = time.perf_counter() - t
    worker.stop()
    await task
    await r.aclose()
    return elapsed


async def polling_phase(redis_url: str, data_dir: str, n: int) -> float:
    from channels.telegram.polling import TelegramPoller
    from channels.telegram.tests.fake_bot_api import FakeBotApi
    from gateway.channel_log import ChannelLog
    from gateway.ingest import GatewayIngest
    from gateway.intake import Intake

    r = aioredis.Redis.from_url(redis_url)
    await r.flushall()
    api = await FakeBotApi(token=TOKEN).start()
    api.push(*(make_update(i) for i in range(n)))
    s = settings(redis_url, data_dir, telegram_api_url=api.url, telegram_poll_timeout_s=0)
    intake = Intake(r, Path(data_dir) / "spool-poll", dedupe_ttl_s=3600)
    await intake.start()
    chlog = ChannelLog(r, size=50, ttl_s=600)
    ctx = SimpleNamespace(settings=s, redis=r, ingest=GatewayIngest(intake, chlog, r))
    poller = TelegramPoller(ctx)
    t = time.perf_counter()
    while await poller.poll_once():
        pass
    elapsed = time.perf_counter() - t
    stored = await r.xlen("lapor:inbound")
    assert stored == n, stored
    await intake.close()
    await api.stop()
    await r.aclose()
    return elapsed


async def main() -> None:
    from gateway.logging import configure_logging

    configure_logging(level="warning")
    ap = argparse.ArgumentParser()
    ap.add_argument("--updates", type=int, default=20000)
    ap.add_argument("--connections", type=int, default=32)
    args = ap.parse_args()
    n = args.updates - args.updates % 3
    with tempfile.TemporaryDirectory() as tmp:
        redis_proc = RedisProc(Path(tmp) / "redis", aof=True).start()
        try:
            port = free_port()
            child = multiprocessing.get_context("spawn").Process(target=serve, args=(redis_proc.url, tmp, port))
            child.start()
            try:
                base_elapsed = await webhook_phase(port, n, args.connections, baseline=True)
                r = aioredis.Redis.from_url(redis_proc.url)
                await r.delete("lapor:inbound")  # the dispatch phase reads only the Telegram updates
                await r.aclose()
                elapsed = await webhook_phase(port, n, args.connections)
            finally:
                child.terminate()
                child.join(10)
            r = aioredis.Redis.from_url(redis_proc.url)
            stored = await r.xlen("lapor:inbound")
            await r.aclose()
            print(f"webhook : {n} updates, {stored} stored in {elapsed:.2f}s = {stored / elapsed:,.0f} updates/s "
                  f"({args.connections} connections, 1 gateway process)")
            print(f"webhook : baseline, the same load on the generic API channel: {n / base_elapsed:,.0f} req/s")
            d_elapsed = await dispatch_phase(redis_proc.url, tmp, n)
            print(f"dispatch: {n} records ({n // 3} conversations: 1 first + 2 follow-ups) in {d_elapsed:.2f}s "
                  f"= {n / d_elapsed:,.0f} records/s (1 worker, conversation hook, no acks)")
            b_elapsed = await dispatch_phase(redis_proc.url, tmp, n, hook=False)
            print(f"dispatch: same stream without the conversation hook (baseline) in {b_elapsed:.2f}s "
                  f"= {n / b_elapsed:,.0f} records/s")
            p_elapsed = await polling_phase(redis_proc.url, tmp, n)
            print(f"polling : {n} updates stored in {p_elapsed:.2f}s = {n / p_elapsed:,.0f} updates/s "
                  "(getUpdates batches of 100, fake Bot API on loopback)")
        finally:
            redis_proc.stop()
    print(f"machine: {os.cpu_count()} cores")


if __name__ == "__main__":
    asyncio.run(main())
