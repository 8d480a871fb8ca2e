"""Where a dispatcher worker's time goes, per stage, over realistic complaints.

Fills a real redis-server (loopback) with ~280-character Indonesian complaints made by the generic
JSON adapter (``bench/complaints.py``), then runs the real ``DispatchWorker`` over them in batches
of ``LAPOR_DISPATCH_BATCH`` (200) with timers wrapped around each stage, and once more under
cProfile. Like ``lapor-gateway worker`` it runs on uvloop with the worker's garbage-collector
settings (``gateway.cli._settle_gc``) applied after the warm-up. Prints the breakdown as a
Markdown table (share of the worker's wall time) and the top functions of the profile.

    .venv/bin/python -m bench.profile_worker --records 4000 [--profile-out bench/out/worker.prof]

Percentages are the point: on a shared machine absolute numbers move with the neighbours' load.
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import io
import pstats
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.complaints import api_body
from channels.api.inbound import ComplaintIn, to_message
from config.settings import Settings
from gateway import keys, redis_clients
from gateway.cli import _settle_gc
from gateway.intake import Intake
from tests.support.fixtures import TOKENS
from tests.support.redis_proc import RedisProc

TIMES: dict[str, float] = defaultdict(float)  # wall seconds per stage
CPU: dict[str, float] = defaultdict(float)  # this thread's CPU seconds per stage (excludes waiting)
CALLS: dict[str, int] = defaultdict(int)
STARTUP_CPU = [0.0]  # the worker's construction, once per process: not a per-record cost
FIXED_BATCH = [0]  # --batch: another XREADGROUP COUNT than LAPOR_DISPATCH_BATCH
BATCHES: list[tuple[int, float]] = []  # (records, wall seconds read -> committed) per batch

# (label, module path, attribute) — normalizer stages as normalize() calls them
NORMALIZE_STAGES = [
    ("tidy (text clean-up)", "normalizer.normalize", "tidy"),
    ("markers (Anonim/Rahasia)", "normalizer.markers", "extract"),
    ("place_tokens (tokenizer)", "normalizer.normalize", "place_tokens"),
    ("expand (word forms)", "normalizer.normalize", "expand"),
    ("spam", "normalizer.spam", "is_spam"),
    ("topics", "normalizer.topics", "classify_topics"),
    ("pii.mask (public_body, title)", "normalizer.pii", "mask"),
    ("classification + topic models", "normalizer.normalize", "_decide"),
    ("language", "normalizer.language", "detect"),
    ("region", "normalizer.region", "find_region"),
    ("phone (E.164)", "normalizer.normalize", "parse_msisdn"),
]


def _timed(label: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def wrapper(*a: Any, **kw: Any) -> Any:
        t0, c0 = time.perf_counter(), time.thread_time()
        try:
            return fn(*a, **kw)
        finally:
            TIMES[label] += time.perf_counter() - t0
            CPU[label] += time.thread_time() - c0
            CALLS[label] += 1
    return wrapper


def _atimed(label: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    async def wrapper(*a: Any, **kw: Any) -> Any:
        t0, c0 = time.perf_counter(), time.thread_time()
        try:
            return await fn(*a, **kw)
        finally:
            TIMES[label] += time.perf_counter() - t0
            CPU[label] += time.thread_time() - c0
            CALLS[label] += 1
    return wrapper


def instrument() -> None:
    """Wrap each stage where its caller looks it up (module attributes), nothing else changes."""
    import importlib

    import rq.serializers
    from pydantic import BaseModel

    import dispatcher.worker as worker
    from dispatcher import core_queue
    from normalizer.models import ComplaintRecord, InboundMessage

    for label, mod, attr in NORMALIZE_STAGES:
        m = importlib.import_module(mod)
        setattr(m, attr, _timed(label, getattr(m, attr)))
    # normalize() itself: the worker calls record_json (the contract dict, built without the models)
    worker.record_json = _timed("normalize (total)", worker.record_json)
    worker.validate_record = _timed("schema validation (jsonschema-rs)", worker.validate_record)
    ComplaintRecord.to_json_dict = _timed("ComplaintRecord -> JSON dict", ComplaintRecord.to_json_dict)
    orig_validate = InboundMessage.model_validate_json.__func__  # type: ignore[attr-defined]

    def validate_json(cls: type[BaseModel], *a: Any, **kw: Any) -> Any:
        t0, c0 = time.perf_counter(), time.thread_time()
        try:
            return orig_validate(cls, *a, **kw)
        finally:
            TIMES["stream entry JSON -> InboundMessage"] += time.perf_counter() - t0
            CPU["stream entry JSON -> InboundMessage"] += time.thread_time() - c0
    InboundMessage.model_validate_json = classmethod(validate_json)  # type: ignore[method-assign,assignment]
    core_queue.CoreQueue.enqueue_commands = _timed("  RQ job building (enqueue_commands)",
                                                   core_queue.CoreQueue.enqueue_commands)
    rq.serializers.JSONSerializer.dumps = staticmethod(_timed("    of which json.dumps of the record (RQ)",
                                                              rq.serializers.JSONSerializer.dumps))
    core_queue.commit = _atimed("commit: one script call (core jobs, markers, XACK)", core_queue.commit)
    worker.DispatchWorker._enrich = _atimed("enrich: repeat counter (1 round trip)",  # type: ignore[method-assign]
                                            worker.DispatchWorker._enrich)


async def fill(settings: Settings, n: int, spool: Path) -> None:
    r = redis_clients.connect(settings)
    intake = Intake(r, spool, dedupe_ttl_s=3600)
    await intake.start()
    try:
        msgs = []
        for i in range(n):
            body = api_body("prof", i)
            msgs.append(to_message(ComplaintIn.model_validate_json(body), body))
        for start in range(0, n, 500):
            await intake.accept(msgs[start:start + 500])
    finally:
        await intake.close()
        await r.aclose()


async def drain(settings: Settings, n: int) -> float:
    """Run the real worker's read → process loop until ``n`` records are in the core; wall seconds."""
    from dispatcher.worker import DispatchWorker

    c_start = time.thread_time()
    r = redis_clients.connect(settings)
    w = DispatchWorker(r, settings, core_redis=r)  # loads and checks the topic rules: once per process
    await w.ensure_group()
    STARTUP_CPU[0] += time.thread_time() - c_start
    t0 = time.perf_counter()
    try:
        while w.processed < n:
            t_read, c_read = time.perf_counter(), time.thread_time()
            count = FIXED_BATCH[0] or settings.dispatch_batch
            resp: Any = await r.xreadgroup(keys.DISPATCH_GROUP, w.consumer, {keys.INBOUND_STREAM: ">"},
                                           count=count, block=100)
            TIMES["XREADGROUP (1 round trip)"] += time.perf_counter() - t_read
            CPU["XREADGROUP (1 round trip)"] += time.thread_time() - c_read
            if not resp:
                break
            t_dec, c_dec = time.perf_counter(), time.thread_time()
            entries = [w._decode(eid, f) for _s, es in resp for eid, f in es]
            TIMES["decode stream entries (total)"] += time.perf_counter() - t_dec
            CPU["decode stream entries (total)"] += time.thread_time() - c_dec
            await w.process(entries)
            BATCHES.append((len(entries), time.perf_counter() - t_read))
        return time.perf_counter() - t0
    finally:
        await r.aclose()


def _arun(main: Any) -> Any:
    """The worker's event loop (``lapor-gateway worker`` runs on uvloop)."""
    import uvloop

    return uvloop.run(main)


def _gc_timer() -> None:
    """Time spent in the cyclic garbage collector (it runs inside whatever stage allocates)."""
    import gc
    started: list[float] = []

    def cb(phase: str, _info: dict[str, Any]) -> None:
        if phase == "start":
            started.append(time.perf_counter())
            started.append(time.thread_time())
        elif started:
            CPU["(cyclic GC, inside the stages above)"] += time.thread_time() - started.pop()
            TIMES["(cyclic GC, inside the stages above)"] += time.perf_counter() - started.pop()
            CALLS["(cyclic GC, inside the stages above)"] += 1
    gc.callbacks.append(cb)


def run(records: int, profile_out: Path | None, acks: bool = False) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        rp = RedisProc(Path(tmp) / "redis").start()
        try:
            settings = Settings(**TOKENS, redis_url=rp.url, data_dir=Path(tmp) / "data", ack_enabled=acks)
            # warm-up (rules, schema compiled, caches) outside the measurement
            _arun(fill(settings, 400, Path(tmp) / "spool"))
            _arun(drain(settings, 400))
            rp.client().flushall()
            _settle_gc()  # as the worker does once started: imports and tables frozen, gen-0 every 10,000

            redis_cost(rp, settings, records, Path(tmp) / "spool")
            rp.client().flushall()
            instrument()
            _gc_timer()
            TIMES.clear()
            _arun(fill(settings, records, Path(tmp) / "spool"))
            TIMES.clear()
            CPU.clear()
            BATCHES.clear()
            STARTUP_CPU[0] = 0.0
            cpu0 = time.thread_time()
            wall = _arun(drain(settings, records))
            cpu = time.thread_time() - cpu0 - STARTUP_CPU[0]
            report(records, wall, cpu)

            rp.client().flushall()
            _arun(fill(settings, records, Path(tmp) / "spool"))
            prof = cProfile.Profile()
            prof.enable()
            _arun(drain(settings, records))
            prof.disable()
            if profile_out:
                profile_out.parent.mkdir(parents=True, exist_ok=True)
                prof.dump_stats(str(profile_out))
            out = io.StringIO()
            pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(25)
            print("\n## cProfile, top 25 by own time\n\n```")
            print("\n".join(out.getvalue().splitlines()[:60]))
            print("```")
        finally:
            rp.stop()


def redis_cost(rp: RedisProc, settings: Settings, records: int, spool: Path) -> None:
    """Redis server CPU per record, intake and dispatch separately: the capacity of one Redis."""
    c = rp.client()

    def cpu() -> float:
        info = c.info("cpu")
        return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])

    def usec() -> dict[str, int]:
        return {k: int(v["usec"]) for k, v in c.info("commandstats").items()}

    c.config_resetstat()
    c0 = cpu()
    _arun(fill(settings, records, spool))
    c1, u1 = cpu(), usec()
    c.config_resetstat()
    _arun(drain(settings, records))
    c2, u2 = cpu(), usec()
    def top(u: dict[str, int], n: int) -> str:
        ranked = sorted(u.items(), key=lambda kv: -kv[1])[:n]
        return ", ".join(f"{k.removeprefix('cmdstat_')} {v / records:.1f}" for k, v in ranked)
    top1, top2 = top(u1, 3), top(u2, 6)
    print(f"\nRedis server CPU per record: intake {(c1 - c0) / records * 1e6:.0f} µs (commands: {top1} µs), "
          f"dispatch {(c2 - c1) / records * 1e6:.0f} µs (commands: {top2} µs); "
          f"one Redis core therefore carries about {1 / ((c2 - c0) / records):,.0f} records/s end to end")


def report(records: int, wall: float, cpu: float) -> None:
    print(f"\n{records} records in {wall:.2f} s wall ({records / wall:,.0f} records/s), "
          f"{cpu:.2f} s CPU in the worker's thread ({records / cpu:,.0f} records per CPU second)\n")
    walls = sorted(t for _n, t in BATCHES)
    p99 = walls[min(len(walls) - 1, int(len(walls) * 0.99))] if walls else 0.0
    if walls:
        print(f"{len(BATCHES)} batches of {records / len(BATCHES):.0f} records on average (max "
              f"{max(k for k, _t in BATCHES)}); read -> committed per batch: "
              f"p50 {walls[len(walls) // 2] * 1e3:.1f} ms, p99 {p99 * 1e3:.1f} ms\n")
    print("| stage | µs CPU per record | share of worker CPU | share of worker wall time |")
    print("| --- | ---: | ---: | ---: |")
    stages = {label for label, _m, _a in NORMALIZE_STAGES}
    rows = ["XREADGROUP (1 round trip)", "decode stream entries (total)", "stream entry JSON -> InboundMessage",
            "enrich: repeat counter (1 round trip)", "normalize (total)", *[x for x, _m, _a in NORMALIZE_STAGES],
            "ComplaintRecord -> JSON dict", "schema validation (jsonschema-rs)",
            "commit: one script call (core jobs, markers, XACK)", "  RQ job building (enqueue_commands)",
            "    of which json.dumps of the record (RQ)"]

    def row(label: str, c: float, t: float) -> None:
        print(f"| {label} | {c / records * 1e6:,.1f} | {c / cpu:.1%} | {t / wall:.1%} |")

    for label in rows:
        row(("  " if label in stages else "") + label, CPU.get(label, 0.0), TIMES.get(label, 0.0))
    rest_c = CPU["normalize (total)"] - sum(CPU[x] for x in stages)
    rest_t = TIMES["normalize (total)"] - sum(TIMES[x] for x in stages)
    row("  normalize: the rest (pydantic record models, title, merge)", rest_c, rest_t)
    rq_label = "  RQ job building (enqueue_commands)"
    commit_label = "commit: one script call (core jobs, markers, XACK)"
    row("  commit: the rest (redis-py packing, replies, the round trips)", CPU[commit_label] - CPU[rq_label],
        TIMES[commit_label] - TIMES[rq_label])
    gc_label = "(cyclic GC, inside the stages above)"
    row(f"{gc_label[:-1]}: {CALLS[gc_label]} collections)", CPU[gc_label], TIMES[gc_label])
    top = ("XREADGROUP (1 round trip)", "decode stream entries (total)", "enrich: repeat counter (1 round trip)",
           "normalize (total)", "ComplaintRecord -> JSON dict", "schema validation (jsonschema-rs)",
           "commit: one script call (core jobs, markers, XACK)")
    row("everything else (loop, metrics, batching)", cpu - sum(CPU[k] for k in top),
        wall - sum(TIMES[k] for k in top))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--records", type=int, default=4000)
    ap.add_argument("--profile-out", type=Path, default=None)
    ap.add_argument("--acks", action="store_true",
                    help="LAPOR_ACK_ENABLED as by default: each record's acknowledgement, route look-ups")
    ap.add_argument("--batch", type=int, default=0,
                    help="XREADGROUP COUNT per batch (default: LAPOR_DISPATCH_BATCH)")
    args = ap.parse_args()
    FIXED_BATCH[0] = args.batch
    run(args.records, args.profile_out, args.acks)


if __name__ == "__main__":
    main()
