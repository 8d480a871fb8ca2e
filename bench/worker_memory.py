"""Peak memory of one ``lapor-gateway worker`` process pushing complaints through the pipeline.

    .venv/bin/python -m bench.worker_memory --records 20000

Starts a loopback redis-server and a real ``lapor-gateway worker`` (defaults: no channel
configured), reads its VmRSS/VmHWM after start-up, then puts ``--records`` complaints
(bench/complaints.py, generic JSON channel) into the stream and waits until all are in the core
RQ queue; prints VmRSS/VmHWM then. Bounded: loopback only, gives up after ``--timeout`` seconds.
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

from bench.profile_worker import fill
from config.settings import Settings
from tests.support.fixtures import TOKENS
from tests.support.redis_proc import RedisProc


def vm(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM of ``pid`` in MB."""
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(("VmRSS:", "VmHWM:")):
            out[line.split(":")[0]] = int(line.split()[1]) // 1024
    return out


def run(records: int, timeout_s: float, extra_env: dict[str, str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        rp = RedisProc(Path(tmp) / "redis").start()
        env = dict(os.environ, LAPOR_REDIS_URL=rp.url, LAPOR_DATA_DIR=str(Path(tmp) / "data"), **extra_env)
        worker = subprocess.Popen([str(Path(sys.executable).parent / "lapor-gateway"), "worker"], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            time.sleep(6)  # start-up: imports, models, consumer group
            start = vm(worker.pid)
            settings = Settings(**TOKENS, redis_url=rp.url, data_dir=Path(tmp) / "data")
            t0 = time.monotonic()
            asyncio.run(fill(settings, records, Path(tmp) / "spool"))
            c = rp.client()
            while c.llen(f"rq:queue:{settings.core_queue}") < records:
                if time.monotonic() - t0 > timeout_s or worker.poll() is not None:
                    raise SystemExit(f"gave up: {c.llen(f'rq:queue:{settings.core_queue}')} of {records} in the core")
                time.sleep(0.2)
            wall = time.monotonic() - t0
            end = vm(worker.pid)
            print(f"worker after start-up: VmRSS {start['VmRSS']} MB (VmHWM {start['VmHWM']} MB); after {records} "
                  f"records ({wall:.1f} s): VmRSS {end['VmRSS']} MB, VmHWM {end['VmHWM']} MB")
        finally:
            worker.terminate()
            worker.wait(10)
            rp.stop()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--records", type=int, default=20_000)
    ap.add_argument("--timeout", type=float, default=300)
    ap.add_argument("--env", action="append", default=[], help="NAME=value for the worker (repeatable)")
    args = ap.parse_args()
    run(args.records, args.timeout, dict(e.split("=", 1) for e in args.env))


if __name__ == "__main__":
    main()
