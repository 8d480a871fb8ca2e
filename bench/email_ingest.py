"""Email channel benchmark: emails/s parsed, and emails/s parsed + stored (raw-MIME endpoint, IMAP poller).

    .venv/bin/python bench/email_ingest.py [--n 2000] [--imap-n 500] [--concurrency 16]

Uses the real parts: a real redis-server on loopback, the real aiohttp app, a real pymap IMAP
server. The mail mix is the channel's fixtures (plain, forwards of each client, HTML-only,
cp1252, attachments, rfc822 attachment), each copy with its own Message-ID. Prints numbers.
"""

from __future__ import annotations

import sys
from pathlib import Path

# run as a script: import the project from the repository root (bench/ itself holds no packages)
ROOT = Path(__file__).resolve().parents[1]
sys.path[0] = str(ROOT)

import argparse  # noqa: E402
import asyncio  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

import aiohttp  # noqa: E402
from aiohttp import web  # noqa: E402

from channels.email.mime import build  # noqa: E402
from config.settings import Settings  # noqa: E402
from gateway.blobs import FileBlobStore  # noqa: E402
from tests.support.fixtures import GatewayUnderTest  # noqa: E402
from tests.support.redis_proc import RedisProc  # noqa: E402

FIXTURES = ROOT / "channels" / "email" / "fixtures"
MIX = ["citizen-plain.eml", "gmail-forward-en.eml", "gmail-forward-id.eml", "outlook-forward-en.eml",
       "outlook-forward-id.eml", "apple-forward-en.eml", "thunderbird-forward-en.eml", "thunderbird-forward-id.eml",
       "html-only.eml", "windows-1252.eml", "attachments.eml", "rfc822-attached.eml"]
_MID = re.compile(rb"^Message-ID: <([^>]+)>", re.M | re.I)


def corpus(n: int) -> list[bytes]:
    raws = [(FIXTURES / name).read_bytes() for name in MIX]
    out = []
    for i in range(n):
        raw = raws[i % len(raws)]
        out.append(_MID.sub(lambda m, i=i: b"Message-ID: <bench-%d-" % i + m.group(1) + b">", raw, count=1))
    return out


def bench_parse(mails: list[bytes], settings: Settings) -> float:
    blobs = FileBlobStore(settings.blobs_path, settings.blob_max_bytes)
    t0 = time.perf_counter()
    for raw in mails:
        build(raw, settings, blobs)
    return len(mails) / (time.perf_counter() - t0)


async def bench_http(mails: list[bytes], settings: Settings, concurrency: int) -> float:

    gw = await GatewayUnderTest(settings).start()
    url = f"{gw.url}/channels/email/inbound"
    headers = {"Authorization": "Bearer bench-token", "Content-Type": "message/rfc822"}
    queue = list(reversed(mails))
    statuses: dict[int, int] = {}
    async with aiohttp.ClientSession() as session:
        async def worker() -> None:
            while queue:
                raw = queue.pop()
                async with session.post(url, data=raw, headers=headers) as resp:
                    await resp.read()
                    statuses[resp.status] = statuses.get(resp.status, 0) + 1
        t0 = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - t0
    await gw.stop()
    assert statuses == {202: len(mails)}, statuses
    return len(mails) / elapsed


async def bench_imap(mails: list[bytes], settings: Settings, tmp: Path) -> float:
    import redis.asyncio as aioredis

    from channels.email.tests.peers import IMAP_PASSWORD, IMAP_USER, PymapServer
    from gateway.app import build_app

    server = PymapServer(tmp).start()
    try:
        c = server.client()
        c.create_folder("Bench")
        for raw in mails:
            c.append("Bench", raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"))
        c.logout()
        s = settings.model_copy(update=dict(imap_host="127.0.0.1", imap_port=server.port, imap_user=IMAP_USER,
                                            imap_password=IMAP_PASSWORD, imap_tls="none", imap_folder="Bench",
                                            imap_processed_folder="Bench-done"))
        s = Settings(**{**s.model_dump(), "imap_password": IMAP_PASSWORD, "email_token": "bench-token"})
        r = aioredis.Redis.from_url(s.redis_url or "")
        await r.delete("lapor:inbound")
        app = build_app(s, s.redis_url or "")
        runner = web.AppRunner(app, access_log=None)
        t0 = time.perf_counter()
        await runner.setup()  # starts the poller
        while await r.xlen("lapor:inbound") < len(mails):
            await asyncio.sleep(0.05)
            if time.perf_counter() - t0 > 600:
                raise RuntimeError("IMAP bench timed out")
        elapsed = time.perf_counter() - t0
        await runner.cleanup()
        await r.aclose()
        return len(mails) / elapsed
    finally:
        server.stop()


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--imap-n", type=int, default=500)
    ap.add_argument("--concurrency", type=int, default=16)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-email-"))
    redis = RedisProc(tmp / "redis", aof=True).start()
    try:
        settings = Settings(redis_url=redis.url, data_dir=tmp / "data", email_token="bench-token", log_level="warning")
        mails = corpus(args.n)
        size = sum(len(m) for m in mails) / len(mails)
        print(f"machine: {os.cpu_count()} cores; mix of {len(MIX)} fixtures, mean {size / 1024:.1f} KiB/mail")
        print(f"parse + blob store (one core, no Redis): {bench_parse(mails, settings):8.0f} emails/s")
        rate = await bench_http(corpus(args.n), settings, args.concurrency)
        print(f"POST /channels/email/inbound, parse + store, {args.concurrency} concurrent: {rate:8.0f} emails/s")
        imap_mails = [m.replace(b"bench-", b"imap-") for m in corpus(args.imap_n)]
        rate = await bench_imap(imap_mails, settings, tmp)
        print(f"IMAP poller (pymap on loopback), fetch + parse + store + move, {args.imap_n} mails: "
              f"{rate:8.0f} emails/s")
    finally:
        redis.stop()


if __name__ == "__main__":
    asyncio.run(main())
