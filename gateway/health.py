"""Liveness, readiness and the pipeline numbers that both readiness and metrics use."""

from __future__ import annotations

import hmac
import time
from typing import Any

import redis.asyncio as aioredis
from aiohttp import web
from prometheus_client import generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from dispatcher.heartbeat import WORKER_ALIVE_S
from gateway import keys, metrics
from gateway.context import GatewayContext, ctx_of
from gateway.intake import REDIS_ERRORS


async def pipeline_numbers(r: aioredis.Redis, core_r: aioredis.Redis, core_queue: str) -> dict[str, Any]:
    """Backlog, pending, dead letters, core queue depth, outbound: one pipeline round trip."""
    async with r.pipeline(transaction=False) as pipe:
        pipe.xlen(keys.INBOUND_STREAM)
        pipe.xlen(keys.DEAD_STREAM)
        pipe.xlen(keys.OUTBOUND_STREAM)
        pipe.xlen(keys.OUTBOUND_DEAD)
        pipe.zcard(keys.OUTBOUND_RETRY)
        pipe.zrangebyscore(keys.WORKERS, time.time() - WORKER_ALIVE_S, "+inf")
        pipe.xlen(keys.QUARANTINE_STREAM)
        inbound, dead, outbound_len, outbound_dead, retry, workers, quarantine = await pipe.execute()
    backlog = pending = 0
    try:
        for g in await r.xinfo_groups(keys.INBOUND_STREAM):
            if keys.text(g.get("name")) == keys.DISPATCH_GROUP:
                pending = int(g.get("pending") or 0)
                backlog = int(g.get("lag") or 0) if g.get("lag") is not None else 0
    except aioredis.ResponseError:
        pass  # no stream/group yet
    core_depth = await core_r.llen(f"rq:queue:{core_queue}")
    from dispatcher.outbound_ops import queue_numbers  # the core's messages to citizens (two-way)

    outbound = await queue_numbers(r)
    return {**outbound, "stream_length": inbound, "stream_backlog": backlog, "pending": pending, "dead_letters": dead,
            "core_queue_depth": core_depth, "outbound_queue": outbound_len, "outbound_retry": retry,
            "outbound_dead": outbound_dead, "workers_alive": len(workers), "quarantined": quarantine}


async def healthz(_request: web.Request) -> web.Response:
    return web.json_response({"status": "alive"})


async def readyz(request: web.Request) -> web.Response:
    ctx: GatewayContext = ctx_of(request.app)
    reasons: list[str] = []
    doc: dict[str, Any] = {"spooling": ctx.intake.spooling, "spool_pending": ctx.intake.spool.pending_count()}
    if ctx.intake.spooling:  # still ready (the spool answers providers), but say why: down, full, read-only
        doc["spooling_because"] = ctx.intake.stats.last_error
    try:
        await ctx.redis.ping()
        workers = await ctx.redis.zrangebyscore(keys.WORKERS, time.time() - WORKER_ALIVE_S, "+inf")
        doc["workers_alive"] = len(workers)
        if not workers:
            reasons.append("no dispatcher worker alive")
    except REDIS_ERRORS as exc:
        reasons.append(f"redis unreachable ({type(exc).__name__})")
    doc["channels"] = {c.name: c.reason for c in ctx.settings.channel_statuses()}
    doc["status"] = "ready" if not reasons else "not ready"
    doc["reasons"] = reasons
    if not metrics_authorized(request, ctx.settings.secret(ctx.settings.metrics_token)):
        doc = {"status": doc["status"]}  # LAPOR_METRICS_TOKEN set: details only for the scraper/operator
    return web.json_response(doc, status=200 if not reasons else 503)


def metrics_authorized(request: web.Request, token: str | None) -> bool:
    """``LAPOR_METRICS_TOKEN`` set ⇒ the scraper must send it as a bearer token."""
    if not token:
        return True
    header = request.headers.get("Authorization", "")
    return header[:7].lower() == "bearer " and hmac.compare_digest(
        header[7:].strip().encode("utf-8", "surrogateescape"), token.encode())


async def metrics_view(request: web.Request) -> web.Response:
    ctx: GatewayContext = ctx_of(request.app)
    if not metrics_authorized(request, ctx.settings.secret(ctx.settings.metrics_token)):
        return web.json_response({"error": "metrics need the bearer LAPOR_METRICS_TOKEN"}, status=401,
                                 headers={"WWW-Authenticate": 'Bearer realm="lapor-metrics"'})
    try:
        core_r = request.app.get(CORE_REDIS_KEY) or ctx.redis
        nums = await pipeline_numbers(ctx.redis, core_r, ctx.settings.core_queue)
        from gateway.presence import read_gateways

        nums["gateways_alive"] = len(await read_gateways(ctx.redis))
        metrics.set_pipeline(nums)
        metrics.set_pipeline({"redis_up": 1})
        await metrics.refresh(ctx.redis)
        await _service_gauges(ctx)
    except REDIS_ERRORS:
        metrics.set_pipeline({"redis_up": 0})
    metrics.set_pipeline({"spool_pending": ctx.intake.spool.pending_count()})
    body = generate_latest(metrics.REGISTRY)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


async def _service_gauges(ctx: GatewayContext) -> None:
    """Poller/bind states: one series per state, 1 for the current one (channel health: the alert loop)."""
    from gateway.services import read_states

    metrics.SERVICE_UP.clear()
    for name, doc in (await read_states(ctx.redis)).items():
        metrics.SERVICE_UP.labels(name, str(doc.get("channel", "")), str(doc.get("state", ""))).set(1)


CORE_REDIS_KEY: web.AppKey[aioredis.Redis] = web.AppKey("lapor_core_redis", aioredis.Redis)
