"""Benchmark of the durable pipeline over loopback (issue 2). Reports numbers; asserts nothing.

    .venv/bin/python -m bench.pipeline --duration 60 [--workers 1] [--out bench/out/pipeline.json]

Scenarios (each on a fresh redis-server with AOF everysec, like the embedded one):
  bare      a bare aiohttp handler doing one awaited XADD per request: the ceiling
  max       the gateway's generic HTTP channel, closed loop (as fast as it goes)
  offered   the gateway at an offered 2,000 msgs/s: backlog and end-to-end latency
  light     the gateway at an offered 1,000 msgs/s: accept latency
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from pathlib import Path
from typing import Any

import redis

from bench.complaints import api_body
from bench.loadgen import LoadResult, Target, run_load_blocking
from tests.support.procs import Proc, cli, gateway_env, wait_ready
from tests.support.redis_proc import RedisProc, free_port

TOKEN = "test-http-token"


GATEWAY_ROOT: Path | None = None  # another checkout's gateway (its own .venv), e.g. main before a change
PAYLOAD = "complaints"  # complaints: ~280-char complaints with name and phone (bench/complaints.py); short: issue 2's
CHANNELS = "all"  # all: every channel configured (test credentials); api: only the generic JSON channel


def api_target(port: int, prefix: str) -> Target:
    def body(i: int) -> bytes:
        if PAYLOAD == "complaints":
            return api_body(prefix, i)
        return json.dumps({"id": f"{prefix}-{i}", "text": f"Lampu jalan di gang {i} mati sudah seminggu, mohon "
                           "segera diperbaiki.", "reporter": {"phone": "081234567890"}}).encode()

    return Target(port=port, path="/channels/http/complaints", body=body,
                  headers=lambda _b: {"Authorization": f"Bearer {TOKEN}"})


def _proc_mb(pids: list[int], file: str, field: str) -> dict[int, float]:
    """The ``field`` (a kB line such as ``VmRSS``) of ``/proc/<pid>/<file>`` for each live process, in MB."""
    out = {}
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/{file}").read_text().splitlines():
                if line.startswith(f"{field}:"):
                    out[pid] = round(int(line.split()[1]) / 1024, 1)
        except OSError:
            continue
    return out


def _status_mb(pids: list[int], field: str) -> dict[int, float]:
    return _proc_mb(pids, "status", field)


def _rss_now(pids: list[int]) -> dict[int, float]:
    return _status_mb(pids, "VmRSS")


def pss_mb(pids: list[int]) -> dict[int, float]:
    """Proportional set size now: shared pages (interpreter, libraries) counted once across the
    tree — what the processes cost the machine together, unlike a sum of RSS."""
    return _proc_mb(pids, "smaps_rollup", "Pss")


def peak_rss_mb(pids: list[int]) -> dict[int, float]:
    return _status_mb(pids, "VmHWM")


def cpu_s(pids: list[int]) -> dict[int, float]:
    """utime + stime of each process so far (seconds): CPU per record is what a shared machine cannot blur."""
    tick = os.sysconf("SC_CLK_TCK")
    out = {}
    for pid in pids:
        try:
            f = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            out[pid] = round((int(f[11]) + int(f[12])) / tick, 2)
        except (OSError, IndexError, ValueError):
            continue
    return out


def children(pid: int) -> list[int]:
    try:
        return [int(x) for x in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


class BacklogSampler(threading.Thread):
    def __init__(self, r: redis.Redis) -> None:
        super().__init__(daemon=True)
        self.r = r
        self.samples: list[int] = []
        self.stop_flag = threading.Event()

    def run(self) -> None:
        while not self.stop_flag.is_set():
            try:
                groups: Any = self.r.xinfo_groups("lapor:inbound")
                g = next((x for x in groups if x["name"] in (b"dispatchers", "dispatchers")), None)
                if g:
                    self.samples.append(int(g.get("lag") or 0) + int(g.get("pending") or 0))
            except redis.RedisError:
                pass
            time.sleep(0.5)


def _job_data(data: bytes) -> bytes:
    """The job's JSON call as RQ reads it: zlib-compressed (``LAPOR_CORE_JOB_COMPRESS``) or not."""
    try:
        return zlib.decompress(data)
    except zlib.error:
        return data


def e2e_latencies(r: redis.Redis, queue: str = "lapor-core") -> list[float]:
    """enqueued_at (set by our worker through RQ) minus received_at (intake), per core job."""
    out = []
    ids: Any = r.lrange(f"rq:queue:{queue}", 0, -1)
    pipe = r.pipeline(transaction=False)
    for jid in ids:
        pipe.hmget(b"rq:job:" + jid, "enqueued_at", "data")
    from datetime import datetime

    for enq, data in pipe.execute():
        rec = json.loads(_job_data(data))[2][0]
        t_enq = datetime.fromisoformat(enq.decode().replace("Z", "+00:00"))
        t_rcv = datetime.fromisoformat(rec["received_at"].replace("Z", "+00:00"))
        out.append((t_enq - t_rcv).total_seconds())
    return out


def pct(data: list[float], p: float) -> float:
    if not data:
        return float("nan")
    s = sorted(data)
    return s[min(len(s) - 1, int(p / 100 * len(s)))]


def wait_drained(r: redis.Redis, expected: int, timeout: float = 120) -> float:
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if r.llen("rq:queue:lapor-core") >= expected:
            break
        time.sleep(0.1)
    return time.monotonic() - t0


def scenario_gateway(tmp: Path, name: str, duration: float, rate: float | None, workers: int | None,
                     connections: int) -> dict[str, Any]:
    rp = RedisProc(tmp / f"redis-{name}", aof=True).start()
    port = free_port()
    env = gateway_env(rp.url, tmp / f"data-{name}", port, LAPOR_ACK_ENABLED="false", LAPOR_LOG_LEVEL="warning")
    if CHANNELS == "api":  # the deployment: only the generic JSON channel has a credential
        env = {k: v for k, v in env.items()
               if not (k.startswith("LAPOR_") and k.endswith(("_TOKEN", "_SECRET", "_USER_ID", "_NUMBER_ID")))
               or k == "LAPOR_HTTP_TOKEN"}
    args = ("serve",) if workers is None else ("serve", "--workers", str(workers))  # None: the defaults
    if GATEWAY_ROOT is None:
        gw = Proc(cli(*args), env, tmp / f"{name}.log")
    else:
        gw = Proc([str(GATEWAY_ROOT / ".venv/bin/python"), "-m", "gateway.cli", *args], env, tmp / f"{name}.log",
                  cwd=GATEWAY_ROOT)
    try:
        wait_ready(port, 30, gw)
        r = rp.client()
        sampler = BacklogSampler(r)
        sampler.start()
        res: LoadResult = run_load_blocking(api_target(port, name), duration_s=duration, rate=rate,
                                                connections=connections)
        sampler.stop_flag.set()
        drain_s = wait_drained(r, res.ok)
        lat = e2e_latencies(r)
        pids = [gw.pid, *children(gw.pid)]
        rss = peak_rss_mb(pids)
        cpu = cpu_s(pids)
        now_rss = {p: v for p, v in _rss_now(pids).items()}
        now_pss = pss_mb(pids)
        in_core = r.llen("rq:queue:lapor-core")
        backlog_max = max(sampler.samples) if sampler.samples else 0
        e2e_rate = in_core / (res.duration_s + drain_s)
        return {
            "scenario": name, "offered_rate": rate, "connections": connections, "workers": workers,
            "accept": res.summary(), "statuses": res.statuses, "in_core": in_core,
            "drain_after_load_s": round(drain_s, 2),
            "e2e": {"rate": round(e2e_rate, 1), "p50_ms": round(pct(lat, 50) * 1000, 1),
                    "p99_ms": round(pct(lat, 99) * 1000, 1)},
            "backlog_max_msgs": backlog_max,
            "backlog_max_s_of_msgs": round(backlog_max / rate, 3) if rate else None,
            "peak_rss_mb": {"gateway": rss.get(gw.pid), "workers": [rss[p] for p in pids[1:] if p in rss],
                            "total": round(sum(rss.values()), 1)},
            "rss_after_mb": {"gateway": now_rss.get(gw.pid), "workers": [now_rss[p] for p in pids[1:] if p in now_rss]},
            "pss_after_mb": {"gateway": now_pss.get(gw.pid), "workers": [now_pss[p] for p in pids[1:] if p in now_pss],
                             "total": round(sum(now_pss.values()), 1)},
            "cpu_s": {"gateway": cpu.get(gw.pid), "workers": [cpu[p] for p in pids[1:] if p in cpu]},
            "worker_cpu_us_per_record": round(sum(cpu[p] for p in pids[1:] if p in cpu) / max(in_core, 1) * 1e6, 1),
            "http_cpu_us_per_request": round((cpu.get(gw.pid) or 0) / max(res.ok, 1) * 1e6, 1),
            "load_average": os.getloadavg(),
        }
    finally:
        gw.terminate()
        rp.stop()


def scenario_bare(tmp: Path, duration: float, connections: int) -> dict[str, Any]:
    rp = RedisProc(tmp / "redis-bare", aof=True).start()
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "bench.bare_xadd", str(port), rp.url],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        import urllib.request

        for _ in range(100):
            try:
                urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{port}/bare", data=b"{}"))
                break
            except OSError:
                time.sleep(0.1)
        t = Target(port=port, path="/bare", body=lambda i: json.dumps({"id": i, "text": "x" * 80}).encode())
        res = run_load_blocking(t, duration_s=duration, connections=connections)
        return {"scenario": "bare", "accept": res.summary()}
    finally:
        proc.terminate()
        proc.wait()
        rp.stop()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--duration", type=float, default=60)
    ap.add_argument("--workers", type=int, default=None, help="default: serve's own default (LAPOR_WORKERS=auto)")
    ap.add_argument("--gateway-root", type=Path, default=None,
                    help="run the gateway from another checkout (with its .venv), e.g. main before a change")
    ap.add_argument("--payload", choices=["complaints", "short"], default="complaints")
    ap.add_argument("--channels", choices=["all", "api"], default="all",
                    help="all: every channel configured with test credentials (SDKs loaded where they are "
                         "used); api: only the generic JSON channel's token, as the issue measured")
    ap.add_argument("--rate", type=float, default=2000, help="offered rate of the 'offered' scenario")
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--only", nargs="*", default=["bare", "max", "offered", "light"])
    ap.add_argument("--out", default="bench/out/pipeline.json")
    args = ap.parse_args()
    global PAYLOAD, GATEWAY_ROOT, CHANNELS
    PAYLOAD = args.payload
    CHANNELS = args.channels
    GATEWAY_ROOT = args.gateway_root.resolve() if args.gateway_root else None
    results: dict[str, Any] = {"machine": {"cores": os.cpu_count(), "python": platform.python_version(),
                                           "platform": platform.platform()},
                               "command": " ".join(sys.argv), "duration_s": args.duration}
    with tempfile.TemporaryDirectory(prefix="lapor-bench-") as d:
        tmp = Path(d)
        if "bare" in args.only:
            results["bare"] = scenario_bare(tmp, args.duration, args.connections)
            print(json.dumps(results["bare"]), flush=True)
        if "max" in args.only:
            results["max"] = scenario_gateway(tmp, "max", args.duration, None, args.workers, args.connections)
            print(json.dumps(results["max"]), flush=True)
        if "offered" in args.only:
            results["offered"] = scenario_gateway(tmp, "offered", args.duration, args.rate, args.workers, 32)
            print(json.dumps(results["offered"]), flush=True)
        if "light" in args.only:
            results["light"] = scenario_gateway(tmp, "light", args.duration, 1000, args.workers, 16)
            print(json.dumps(results["light"]), flush=True)
    if "bare" in results and "max" in results:
        results["ratio_to_bare"] = round(results["max"]["accept"]["rate"] / results["bare"]["accept"]["rate"], 3)
        print("ratio to bare ceiling:", results["ratio_to_bare"])
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
