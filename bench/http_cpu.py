"""CPU per accepted request of the HTTP process alone (issue 17): ``serve --workers 0``, the generic
JSON channel, ~280-character complaints (``bench/complaints.py``), closed loop over loopback.

    .venv/bin/python -m bench.http_cpu [--duration 15] [--connections 64] [--rate R] [--bare]
        [--root /work/main --rounds 4] [--py-spy out.svg|out.txt]

Reports the process's utime+stime spent during the load (start-up excluded) divided by the
requests it accepted: blurred less than req/s on a shared machine, though contention still
raises it (compare alternating runs: ``--root`` runs another checkout's gateway, with its own
``.venv``, before this one in each of ``--rounds``; medians are printed). ``--bare`` measures
``bench/bare_xadd.py`` the same way (the ceiling). ``--py-spy`` records the gateway while the
load runs (py-spy installed in the venv by hand, for measuring only; ``.txt``: collapsed stacks;
``SPY_NATIVE=1``: C frames too).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from bench.loadgen import Target, run_load
from bench.pipeline import api_target, cpu_s
from tests.support.procs import Proc, cli, gateway_env
from tests.support.redis_proc import RedisProc, free_port

RATE: float | None = None  # --rate: open loop at this many req/s (None: closed loop, full load)


def _measure(pid: int, target: Target, duration: float, connections: int,
             spy: str | None) -> dict[str, float]:
    spy_proc = None
    if spy:
        exe = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
        mode = ["--native"] if os.environ.get("SPY_NATIVE") else ["--nonblocking"]  # native: C frames too
        fmt = ["-f", "raw"] if spy.endswith(".txt") else []  # collapsed stacks, for grep and sums
        spy_proc = subprocess.Popen([exe, "record", "-p", str(pid), "-o", spy, "-d", str(int(duration)),
                                     "-r", "250", *mode, *fmt],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # warm-up: first requests compile regexes, open connections, load the Lua script
    asyncio.run(run_load(target, duration_s=1.0, connections=connections, start_index=10**9))
    before = cpu_s([pid])[pid]
    res = asyncio.run(run_load(target, duration_s=duration, connections=connections, rate=RATE))
    used = cpu_s([pid])[pid] - before
    if spy_proc is not None:
        spy_proc.wait(timeout=duration + 30)
    return {"ok": res.ok, "failed": res.failed, "rate": round(res.rate, 1), "cpu_s": round(used, 3),
            "cpu_us_per_request": round(used / max(res.ok, 1) * 1e6, 1),
            "p50_ms": round(res.pct(50) * 1000, 2), "p99_ms": round(res.pct(99) * 1000, 2),
            "load_average": round(os.getloadavg()[0], 2)}


def _wait_port(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                return
        except urllib.error.HTTPError:
            return  # it answers
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"port {port} not answering within {timeout}s")


def gateway(tmp: Path, duration: float, connections: int, spy: str | None,
            root: Path | None = None) -> dict[str, float]:
    tmp.mkdir(parents=True, exist_ok=True)
    rp = RedisProc(tmp / "redis-gw", aof=True).start()
    port = free_port()
    env = gateway_env(rp.url, tmp / "data-gw", port, LAPOR_ACK_ENABLED="false", LAPOR_LOG_LEVEL="warning",
                      LAPOR_TWITTER_POLL="false")
    if root is None:
        gw = Proc(cli("serve", "--workers", "0"), env, tmp / "gw.log")
    else:  # another checkout's gateway with its own .venv, e.g. main before a change
        env["PYTHONDONTWRITEBYTECODE"] = "1"  # leave the other checkout as it is
        gw = Proc([str(root / ".venv/bin/python"), "-m", "gateway.cli", "serve", "--workers", "0"], env,
                  tmp / "gw.log", cwd=root)
    try:
        _wait_port(port)  # /readyz wants a worker's heartbeat: there is none here
        out = _measure(gw.pid, api_target(port, "cpu"), duration, connections, spy)
        stats = rp.client().info("commandstats")
        calls = sum(v["calls"] for k, v in stats.items() if k in ("cmdstat_evalsha", "cmdstat_eval"))
        out["requests_per_intake_call"] = round(out["ok"] / max(calls, 1), 1)  # warm-up included in calls
        return out
    finally:
        gw.terminate()
        rp.stop()


def bare(tmp: Path, duration: float, connections: int) -> dict[str, float]:
    tmp.mkdir(parents=True, exist_ok=True)
    rp = RedisProc(tmp / "redis-bare", aof=True).start()
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "bench.bare_xadd", str(port), rp.url],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_port(port)
        t = api_target(port, "bare")
        t.path = "/bare"
        return _measure(proc.pid, t, duration, connections, None)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        rp.stop()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--duration", type=float, default=15)
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--bare", action="store_true", help="also measure the bare aiohttp+XADD ceiling")
    ap.add_argument("--root", type=Path, default=None,
                    help="also measure another checkout's gateway first (its own .venv), e.g. /work/main")
    ap.add_argument("--rounds", type=int, default=1, help="alternate root/this checkout this many times")
    ap.add_argument("--py-spy", dest="spy", default=None, help="flame graph of the gateway (.svg, or .txt raw)")
    ap.add_argument("--rate", type=float, default=None, help="open loop at this rate (default: closed loop)")
    args = ap.parse_args()
    global RATE
    RATE = args.rate
    out: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="lapor-httpcpu-") as d:
        for k in range(args.rounds):
            if args.root is not None:
                out[f"root-{k}"] = gateway(Path(d) / f"root-{k}", args.duration, args.connections, None, args.root)
            out[f"gateway-{k}"] = gateway(Path(d) / f"gw-{k}", args.duration, args.connections, args.spy)
            if args.bare:
                out[f"bare-{k}"] = bare(Path(d) / f"bare-{k}", args.duration, args.connections)
    print(json.dumps(out, indent=1))
    for prefix in ("root", "gateway", "bare"):
        runs = sorted(v["cpu_us_per_request"] for k, v in out.items() if k.startswith(prefix))
        if runs:
            print(f"{prefix}: median {runs[len(runs) // 2]} us CPU per request over {len(runs)} run(s): {runs}")


if __name__ == "__main__":
    main()
