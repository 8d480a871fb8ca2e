"""``lapor-gateway serve | worker | status | replay | send``.

Exit codes: 0 success (status: everything ok or only degraded); 1 status: a channel is silent;
2 status: something is failing (or Redis unreachable, or no live worker with ``--worker``);
3 the configuration is invalid (nothing was started).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import os
import signal
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

from config.settings import Settings, SettingsError, load_settings
from gateway.logging import configure_logging, get_logger

log = get_logger("gateway.cli")

EXIT_OK, EXIT_SILENT, EXIT_FAILING, EXIT_CONFIG = 0, 1, 2, 3


def _settings() -> Settings:
    try:
        return load_settings()
    except SettingsError as exc:
        print(f"lapor-gateway: {exc}", file=sys.stderr)
        raise SystemExit(EXIT_CONFIG) from None


def _redis_url_for_tools(settings: Settings) -> str:
    """External Redis, or the socket of the embedded one started by ``serve`` (not for Sentinel:
    use ``gateway.redis_clients.connect``)."""
    from gateway import redis_clients
    return redis_clients.main_url(settings) or redis_clients.embedded_socket_url(settings)


# ---------------------------------------------------------------------------------------------- serve
async def _serve(settings: Settings, workers: int, http_processes: int) -> None:
    from aiohttp import web

    from gateway.app import build_app
    from gateway.redis_server import EmbeddedRedis
    from gateway.supervisor import WorkerSupervisor

    embedded: EmbeddedRedis | None = None
    url = None if settings.redis_sentinels else settings.redis_url  # Sentinel wins over a URL
    env = dict(os.environ)
    if settings.embedded_redis:
        embedded = EmbeddedRedis(Path(settings.data_dir), settings.redis_server_bin)
        url = await asyncio.to_thread(embedded.start)
        env["LAPOR_REDIS_URL"] = url
    sup = WorkerSupervisor(workers, env, nice=settings.worker_nice)
    # extra HTTP processes: the same app on the same port (SO_REUSEPORT), without pollers or binds
    http_sup = WorkerSupervisor(http_processes - 1, env, args=["http"], role="http")
    runner: web.AppRunner | None = None
    metrics_runner: web.AppRunner | None = None
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        app = build_app(settings, url)
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, settings.http_host, settings.http_port, reuse_port=True, backlog=1024)
        await site.start()
        if settings.metrics_port is not None:
            from gateway.app import build_metrics_app

            metrics_runner = web.AppRunner(build_metrics_app(app), access_log=None, handle_signals=False)
            await metrics_runner.setup()
            await web.TCPSite(metrics_runner, settings.metrics_host, settings.metrics_port, reuse_port=True).start()
        await sup.start()
        await http_sup.start()
        _settle_gc()
        log.info("gateway.serving", host=settings.http_host, port=settings.http_port, workers=workers,
                 http_processes=http_processes, embedded_redis=embedded is not None,
                 sentinel=bool(settings.redis_sentinels))
        await stop.wait()
        log.info("gateway.stopping")
    finally:
        await http_sup.stop()
        if runner is not None:
            await runner.cleanup()
        await sup.stop()
        if embedded is not None:
            await asyncio.to_thread(embedded.stop)


async def _http(settings: Settings) -> None:
    """One more HTTP process of ``serve --http-processes N``: routes and intake only."""
    from aiohttp import web

    from gateway.app import build_app

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    runner = web.AppRunner(build_app(settings, services=False), access_log=None, handle_signals=False)
    await runner.setup()
    try:
        await web.TCPSite(runner, settings.http_host, settings.http_port, reuse_port=True, backlog=1024).start()
        _settle_gc()
        log.info("gateway.http_serving", host=settings.http_host, port=settings.http_port, pid=os.getpid())
        await stop.wait()
    finally:
        await runner.cleanup()


def _run(main: Coroutine[Any, Any, None]) -> None:
    """The long-running roles on uvloop (less loop overhead per request and per batch)."""
    import uvloop

    uvloop.run(main)


def _settle_gc() -> None:
    """After start-up: move everything imported and built so far out of the cyclic collector's
    view (it is never garbage) and collect young objects less often: a busy worker allocates
    many short-lived objects, and each gen-0 pass re-walked the tables and models too."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 20, 20)
    _trim_malloc()


def _trim_malloc() -> None:
    """Hand the C allocator's free pages back to the system once start-up is done: loading the
    models leaves megabytes of freed parse buffers resident in every process otherwise."""
    import ctypes
    import ctypes.util

    with contextlib.suppress(OSError, AttributeError):  # not glibc: nothing to trim this way
        ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim(0)


# --------------------------------------------------------------------------------------------- worker
async def _worker(settings: Settings) -> None:
    from channels import registry
    from dispatcher.outbound import OutboundWorker
    from dispatcher.outbound_worker import CoreMessageWorker
    from dispatcher.worker import DispatchWorker
    from gateway import metrics, redis_clients

    r = redis_clients.connect(settings)
    flusher = await metrics.Flusher.acquire(r)  # the worker's counts reach Redis (and /metrics) too
    core_r = redis_clients.connect_core(settings, r)
    ack_senders = registry.senders(settings)
    dw = DispatchWorker(r, settings, core_redis=core_r, preprocessors=registry.preprocessors(settings),
                        reply_channels=set(ack_senders))  # no sender for a channel: its complaints never wait
    cw = CoreMessageWorker(r, settings, registry.senders(settings), dw.consumer, core_redis=core_r)  # two-way
    ow = OutboundWorker(r, ack_senders, dw.consumer, max_attempts=settings.ack_max_attempts,
                        backoff_s=settings.ack_backoff_s, rate_per_minute=settings.ack_rate_per_minute,
                        engine=cw.engine, pace=cw.pace)  # ack-<record id> statuses; one pace per channel
    loop = asyncio.get_running_loop()

    def _stop() -> None:
        dw.stop()
        ow.stop()
        cw.stop()

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, _stop)
    dw.warm_up()  # models loaded before the first record and before the freeze below
    _settle_gc()
    log.info("worker.running", consumer=dw.consumer)
    tasks = [asyncio.create_task(dw.run())]
    tasks.append(asyncio.create_task(cw.run()))
    if settings.ack_enabled:
        tasks.append(asyncio.create_task(ow.run()))
    try:
        await asyncio.gather(*tasks)
    finally:
        await flusher.release()
        await r.aclose()
        if core_r is not r:
            await core_r.aclose()


# --------------------------------------------------------------------------------------------- status
async def _status(settings: Settings, as_json: bool) -> int:
    """The health model as a table. Exit 0 all well (or only degraded), 1 silent, 2 failing."""
    import orjson

    from dispatcher import outbound_ops
    from gateway import redis_clients
    from gateway.health_model import HealthModel
    from gateway.spool import Spool

    r = redis_clients.connect(settings)
    core_r = redis_clients.connect_core(settings, r)
    spool = Spool(Path(settings.data_dir) / "spool")
    outbound: dict[str, Any] | None = None
    try:
        report = await HealthModel(settings, r, core_redis=core_r, spool_pending=spool.pending_count).report()
        with contextlib.suppress(Exception):  # Redis unreachable: the report already says so
            outbound = await outbound_ops.summary(r)
    finally:
        await r.aclose()
        if core_r is not r:
            await core_r.aclose()
    if as_json:
        print(orjson.dumps(dict(report.to_dict(), problems=report.problems(), outbound=outbound)).decode())
    else:
        print(format_status(report))
        if outbound is not None:
            print(format_outbound(outbound))
    states = [c.state for c in report.channels] + [report.pipeline.state]
    return EXIT_FAILING if "failing" in states else EXIT_SILENT if "silent" in states else EXIT_OK


async def _worker_alive(settings: Settings) -> int:
    """Container healthcheck of ``worker``: a dispatcher on this host sent a heartbeat recently."""
    import socket
    import time

    from dispatcher.heartbeat import WORKER_ALIVE_S
    from gateway import keys
    from gateway.app import redis_client
    from gateway.intake import REDIS_ERRORS

    r = redis_client(_redis_url_for_tools(settings))
    host = socket.gethostname()
    try:
        alive = await r.zrangebyscore(keys.WORKERS, time.time() - WORKER_ALIVE_S, "+inf")
    except REDIS_ERRORS as exc:
        print(f"worker: redis unreachable ({type(exc).__name__})", file=sys.stderr)
        return EXIT_FAILING
    finally:
        await r.aclose()
    names = [w.decode() if isinstance(w, bytes) else str(w) for w in alive]
    mine = [n for n in names if n.startswith(f"{host}-")]
    if not mine:
        print(f"worker: no dispatcher on {host} sent a heartbeat in {WORKER_ALIVE_S:.0f}s", file=sys.stderr)
        return EXIT_FAILING
    print(f"worker: {len(mine)} dispatcher(s) alive on {host}")
    return EXIT_OK


def format_status(report: Any) -> str:
    import time

    def ago(ts: float | None) -> str:
        if not ts:
            return "-"
        s = max(0.0, report.generated_at - ts)
        return f"{s:.0f}s" if s < 90 else f"{s / 60:.0f}m" if s < 5400 else f"{s / 3600:.0f}h"

    rows = [("CHANNEL", "STATE", "LAST MSG", "24H", "AUTH-", "INVAL-", "ERR", "REASON")]
    for c in report.channels:
        d = c.day
        state = c.state.upper() if c.state in ("failing", "silent") else c.state
        rows.append((c.channel, state, ago(c.last_message_at),
                     str(sum(c.volume_24h)), str(d.get("rejected_auth", 0)), str(d.get("rejected_invalid", 0)),
                     str(d.get("error", 0) + d.get("quarantined", 0)), c.reason))
    widths = [max(len(r[i]) for r in rows) for i in range(7)]
    lines = ["  ".join(v.ljust(w) for v, w in zip(r[:7], widths, strict=True)) + "  " + r[7] for r in rows]
    p = report.pipeline
    lines += ["", f"pipeline  {p.state.upper() if p.state == 'failing' else p.state}  {p.reason}"]
    lines += [f"  {k:<18} {v}" for k, v in p.numbers.items()]
    lines.append(f"\n{time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime(report.generated_at))}  overall: "
                 f"{report.status}")
    return "\n".join(lines)


def format_outbound(summary: dict[str, Any]) -> str:
    """The ``status`` section on messages to citizens: queue depth, then counts per channel."""
    q = summary["queue"]
    lines = ["", "outbound  " + "  ".join(f"{k.removeprefix('outbound_')}={v}" for k, v in q.items())]
    rows = [("CHANNEL", "SENT", "DELIVERED", "READ", "FAILED", "WINDOW_CLOSED")]
    for ch, c in summary["channels"].items():
        rows.append((ch, *(str(c.get(k, 0)) for k in ("sent", "delivered", "read", "failed", "window_closed"))))
    if len(rows) > 1:
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        lines += ["  " + "  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------- replay
async def _replay(settings: Settings, args: argparse.Namespace) -> int:
    from dispatcher import dead
    from gateway import redis_clients

    r = redis_clients.connect(settings)
    try:
        if args.outbound:
            return await _replay_outbound(settings, r, args)
        if args.range:
            records, requeued = await dead.renormalize_range(r, args.range[0], args.range[1],
                                                             requeue_missing=args.requeue_missing)
            out = dead.dumps(records)
            if args.out:
                Path(args.out).write_bytes(out + b"\n")
            else:
                sys.stdout.buffer.write(out + b"\n")
            print(f"re-normalized {len(records)} entries, requeued {requeued}", file=sys.stderr)
            return 0
        if args.list:
            import orjson
            for d in await dead.list_dead(r, count=args.count):
                print(orjson.dumps(d).decode())
            return 0
        n = await dead.replay_dead(r, args.id or None)
        print(f"replayed {n} dead letter(s)", file=sys.stderr)
        return 0
    finally:
        await r.aclose()


def _outbound_api(settings: Settings, r: Any) -> Any:
    """The outbound API's store without the HTTP server: the same validation, routes and Lua."""
    from channels import registry
    from dispatcher.delivery import StatusEngine, status_queue
    from gateway.outbound_api import OutboundApi
    from gateway.spool import Spool

    engine = StatusEngine(r, status_queue(settings), settings.route_ttl_days * 86400,
                          outbox=bool(settings.core_redis_url))
    return OutboundApi(settings, engine, set(registry.senders(settings)),
                       Spool(Path(settings.data_dir) / "spool-outbound"))


async def _replay_outbound(settings: Settings, r: Any, args: argparse.Namespace) -> int:
    import orjson

    from dispatcher import outbound_ops

    if args.list:
        for d in await outbound_ops.list_dead(r, count=args.count):
            print(orjson.dumps(d).decode())
        return 0
    api = _outbound_api(settings, r)
    new_ids = await outbound_ops.replay_dead(r, api.store, dead_ids=args.id or None,
                                             outbound_ids=args.message or None)
    for nid in new_ids:
        print(nid)
    print(f"replayed {len(new_ids)} outbound dead letter(s) as new attempts", file=sys.stderr)
    return 0


# ----------------------------------------------------------------------------------------------- send
async def _send(settings: Settings, args: argparse.Namespace) -> int:
    """Store one message for a citizen exactly as ``POST /outbound/messages`` would, then follow it."""
    import time
    import uuid

    import orjson

    from dispatcher import outbound_keys
    from gateway import redis_clients
    from gateway.outbound_api import NoRoute
    from normalizer.twoway_contract import outbound_errors

    doc: dict[str, Any] = {"schema": "lapor.outbound/1", "id": args.id or f"admin-{uuid.uuid4().hex[:20]}",
                           "record_id": args.record, "kind": args.kind, "text": args.text}
    if args.expects_reply:
        doc["expects_reply"] = True
    errors = outbound_errors(doc)
    if errors:
        for e in errors:
            print(f"invalid: {e}", file=sys.stderr)
        return 2
    r = redis_clients.connect(settings)
    try:
        api = _outbound_api(settings, r)
        current = await r.hget(outbound_keys.message(doc["id"]), "status")
        if current is None:
            try:
                channel = await api.channel_for(doc)
            except NoRoute as exc:
                print(f"{exc.error}: {exc.detail}", file=sys.stderr)
                return 1
            await api.store(doc, orjson.dumps(doc), channel)
        print(doc["id"])
        deadline = time.monotonic() + args.follow
        seen = 0
        while True:
            view = await api.engine.view(doc["id"])
            hist = (view or {}).get("history") or []
            for h in hist[seen:]:
                err = f"  {h['error'].get('code')}" if h.get("error") else ""
                print(f"{h['at']}  {h['status']}{err}", file=sys.stderr)
            seen = len(hist)
            status = (view or {}).get("status")
            if status in ("delivered", "read", "failed") or time.monotonic() >= deadline:
                break
            await asyncio.sleep(0.3)
        return 1 if status == "failed" else 0
    finally:
        await r.aclose()


def main(argv: list[str] | None = None) -> None:
    from config.version import __version__

    parser = argparse.ArgumentParser(prog="lapor-gateway", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"lapor-gateway {__version__}")
    sub = parser.add_subparsers(dest="cmd", required=True)
    p_serve = sub.add_parser("serve", help="HTTP, pollers and dispatcher workers in one process group")
    p_serve.add_argument("--workers", default=None,
                         help="dispatcher worker processes, a number or auto (LAPOR_WORKERS, default auto)")
    p_serve.add_argument("--http-processes", type=int, default=None,
                         help="HTTP processes sharing the port with SO_REUSEPORT (LAPOR_HTTP_PROCESSES, default 1)")
    sub.add_parser("http", help=argparse.SUPPRESS)  # an extra HTTP process of serve --http-processes
    sub.add_parser("worker", help="dispatcher and outbound workers only")
    status_help = ("health as the running gateways publish it; exit 0 ok/degraded, 1 silent, "
                   "2 failing or Redis unreachable, 3 invalid configuration")
    p_status = sub.add_parser("status", help=status_help, description=status_help)
    p_status.add_argument("--json", action="store_true")
    p_status.add_argument("--worker", action="store_true",
                          help="only: is a dispatcher worker on this host alive (container healthcheck)")
    p_replay = sub.add_parser("replay", help="re-enqueue dead letters, or re-normalize a stream range")
    p_replay.add_argument("--id", action="append", help="dead-letter id (repeatable); default: all")
    p_replay.add_argument("--outbound", action="store_true",
                          help="the core's messages to citizens (lapor:outbound:dead): each replay is a new attempt "
                               "<id>-replay<N>")
    p_replay.add_argument("--message", action="append", help="with --outbound: the outbound id (repeatable)")
    p_replay.add_argument("--list", action="store_true", help="list dead letters instead")
    p_replay.add_argument("--count", type=int, default=100)
    p_replay.add_argument("--range", nargs=2, metavar=("START", "END"), help="stream ids (- and + for all)")
    p_replay.add_argument("--requeue-missing", action="store_true",
                          help="with --range: put back entries whose record never reached the core")
    p_replay.add_argument("--out", help="with --range: write the records here (JSON lines)")
    p_send = sub.add_parser("send", help="send a message to a record's citizen by hand (same path as the API)")
    p_send.add_argument("--record", required=True, help="record id")
    p_send.add_argument("--text", required=True)
    p_send.add_argument("--kind", default="notice", choices=("status", "question", "answer", "notice"))
    p_send.add_argument("--expects-reply", action="store_true")
    p_send.add_argument("--id", help="outbound id (default admin-<random>); the same id never sends twice")
    p_send.add_argument("--follow", type=float, default=10.0, help="seconds to follow its status (0: do not)")
    args = parser.parse_args(argv)

    settings = _settings()
    configure_logging(settings.log_format, settings.log_level)
    if args.cmd == "serve":
        overrides: dict[str, Any] = {}
        if args.workers is not None:
            overrides["workers"] = args.workers
        if args.http_processes is not None:
            overrides["http_processes"] = args.http_processes
        if overrides:
            try:
                settings = load_settings(**overrides)
            except SettingsError as exc:
                print(f"lapor-gateway: {exc}", file=sys.stderr)
                raise SystemExit(2) from None
        with contextlib.suppress(KeyboardInterrupt):
            _run(_serve(settings, settings.worker_count, settings.http_processes))
    elif args.cmd == "http":
        with contextlib.suppress(KeyboardInterrupt):
            _run(_http(settings))
    elif args.cmd == "worker":
        with contextlib.suppress(KeyboardInterrupt):
            _run(_worker(settings))
    elif args.cmd == "status" and args.worker:
        raise SystemExit(asyncio.run(_worker_alive(settings)))
    elif args.cmd == "status":
        raise SystemExit(asyncio.run(_status(settings, args.json)))
    elif args.cmd == "replay":
        raise SystemExit(asyncio.run(_replay(settings, args)))
    elif args.cmd == "send":
        raise SystemExit(asyncio.run(_send(settings, args)))


if __name__ == "__main__":
    main()
