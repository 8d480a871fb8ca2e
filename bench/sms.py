"""SMPP deliver_sm → stored (in Redis, deliver_sm_resp received), msgs/s on one bind.

The SMSC simulator (smpplib PDUs, ``channels/sms/tests/smsc.py``) runs in this process; the
gateway runs as a real ``lapor-gateway serve`` process (no dispatcher workers, so only the
inbound path is measured) bound to it as a transceiver; Redis is a real redis-server with AOF
``everysec``. A deliver_sm is counted when its deliver_sm_resp (status 0) came back — which the
gateway sends only after intake stored the message. ``--window`` deliver_sm may be outstanding
(SMPP windowing), as SMSCs do.

    .venv/bin/python bench/sms.py --messages 5000 --window 1 10 100
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import redis

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from channels.sms.tests.smsc import Smsc  # noqa: E402
from tests.support.redis_proc import RedisProc, free_port  # noqa: E402

TEXT = b"Jalan di depan SDN 3 Sukamaju rusak berat sejak dua bulan, mohon diperbaiki. Terima kasih."


async def run(n: int, window: int, rsync: redis.Redis, smsc: Smsc) -> float:
    rsync.delete("lapor:inbound")
    for k in rsync.scan_iter("lapor:idem:*", count=1000):
        rsync.delete(k)
    for k in rsync.scan_iter("lapor:smpp:seen:*", count=1000):
        rsync.delete(k)
    sem = asyncio.Semaphore(window)
    refused = 0

    async def one(i: int) -> None:
        nonlocal refused
        async with sem:
            status = await smsc.deliver(source_addr=f"628123{i:07d}", short_message=TEXT + f" #{i}".encode())
            refused += status != 0

    t0 = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(n)))
    elapsed = time.perf_counter() - t0
    stored = rsync.xlen("lapor:inbound")
    # every resp was 0, so every message is durable; not in the stream = spooled (intake fell back)
    assert refused == 0 and stored == n, f"refused {refused}, in the stream {stored} of {n}"
    return n / elapsed


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=5000)
    ap.add_argument("--window", type=int, nargs="+", default=[1, 10, 100])
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="sms-bench-"))
    rp = RedisProc(tmp / "redis", aof=True).start()
    rsync = redis.Redis.from_url(rp.url)
    smsc = await Smsc().start()
    env = dict(os.environ, LAPOR_REDIS_URL=rp.url, LAPOR_DATA_DIR=str(tmp / "data"), LAPOR_HTTP_PORT=str(free_port()),
               LAPOR_SMPP_HOST="127.0.0.1", LAPOR_SMPP_PORT=str(smsc.port), LAPOR_SMPP_SYSTEM_ID="lapor",
               LAPOR_SMPP_PASSWORD="secret", LAPOR_WORKERS="0", LAPOR_LOG_LEVEL="warning", LAPOR_LOG_FORMAT="json")
    log = (tmp / "serve.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "gateway.cli", "serve"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=log)
    try:
        await smsc.wait_bound(30)
        await run(500, 50, rsync, smsc)  # warm-up
        print(f"SMPP deliver_sm -> stored, one bind, {args.messages} messages per run")
        for w in args.window:
            rates = [await run(args.messages, w, rsync, smsc) for _ in range(3)]
            print(f"window {w:4d}: {', '.join(f'{x:,.0f}' for x in rates)} msgs/s (median {sorted(rates)[1]:,.0f})")
    finally:
        proc.terminate()
        proc.wait(20)
        await smsc.stop()
        rp.stop()
        log.close()


if __name__ == "__main__":
    asyncio.run(main())
