"""The aiohttp application: channel routes from the registry, health, metrics."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import redis.asyncio as aioredis
from aiohttp import web

from channels import registry
from config.settings import Settings
from dispatcher.delivery import StatusEngine, status_queue
from gateway import redis_clients
from gateway.admin import setup_admin
from gateway.channel_log import ChannelLog
from gateway.context import CTX_KEY, GatewayContext
from gateway.endpoint import wrap
from gateway.health import CORE_REDIS_KEY, healthz, metrics_view, readyz
from gateway.intake import Intake
from gateway.logging import get_logger
from gateway.openapi import openapi_view
from gateway.outbound_api import setup_outbound
from gateway.presence import Presence
from gateway.proxy import TrustedProxies, proxy_middleware
from gateway.request_id import request_id_middleware

log = get_logger("gateway.app")


def redis_client(url: str) -> aioredis.Redis:
    """Kept for callers that hold a URL; new code uses ``gateway.redis_clients``."""
    return redis_clients.from_url(url)


def build_app(settings: Settings, redis_url: str | None = None, *, services: bool = True) -> web.Application:
    """Routes and lifecycle; Redis clients and background tasks start with the app.

    ``redis_url`` None: the Redis the settings name (Sentinel's primary, ``LAPOR_REDIS_URL``).
    ``services`` False: no pollers or binds (the extra HTTP processes of ``serve --http-processes``)."""
    biggest = max(settings.max_body_bytes, settings.email_max_body_bytes)
    proxies = TrustedProxies.from_spec(settings.trusted_proxies)
    # outermost first: the client's view through trusted proxies (only when some are configured:
    # without, the forwarded headers are ignored anyway), then a request id for every log line
    middlewares = [proxy_middleware(proxies)] if proxies.networks else []
    middlewares.append(request_id_middleware(proxies))
    app = web.Application(client_max_size=biggest + 1, middlewares=middlewares)
    r = redis_clients.connect(settings, redis_url)
    intake = Intake(r, Path(settings.data_dir) / "spool", dedupe_ttl_s=settings.dedupe_ttl_s,
                    flush_interval_s=settings.spool_flush_interval_s,
                    wait_replicas=settings.redis_wait_replicas, wait_timeout_ms=settings.redis_wait_timeout_ms,
                    spool_max_bytes=settings.spool_max_mb * 1024**2)
    chlog = ChannelLog(r, size=settings.channel_log_size, ttl_s=settings.channel_log_ttl_s)
    ctx = GatewayContext(settings=settings, redis=r, intake=intake, channel_log=chlog)
    app[CTX_KEY] = ctx
    if settings.core_redis_url and settings.core_redis_url != redis_url:
        app[CORE_REDIS_KEY] = redis_clients.connect_core(settings, r)
    # delivery reports (DLRs, receipts, webhook statuses) from endpoints and binds
    ctx.ingest.status_engine = StatusEngine(r, status_queue(settings), settings.route_ttl_days * 86400,
                                            outbox=CORE_REDIS_KEY in app)

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    if settings.metrics_port is None:  # else only on the separate listener (build_metrics_app)
        app.router.add_get("/metrics", metrics_view)
    app.router.add_get("/openapi.json", openapi_view)
    for ep in registry.endpoints():
        handler = wrap(ep)
        for method in ep.methods:
            app.router.add_route(method, ep.path, handler)
    setup_outbound(app)  # two-way: the core's messages to citizens (gateway/outbound_api.py)
    setup_admin(app)

    presence = Presence(r, settings)

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        await intake.start()
        await chlog.start()
        await presence.start()
        for status in settings.channel_statuses():
            log.info("channel.status", channel=status.name, enabled=status.enabled, reason=status.reason)
        running = registry.services(ctx) if services else []
        for svc in running:
            await svc.start()
        yield
        for svc in running:
            await svc.stop()
        await presence.stop()
        await chlog.close()
        await intake.close()
        await r.aclose()
        if CORE_REDIS_KEY in app:
            await app[CORE_REDIS_KEY].aclose()

    app.cleanup_ctx.append(lifecycle)
    return app


def build_metrics_app(main: web.Application) -> web.Application:
    """``/metrics`` alone, for ``LAPOR_METRICS_PORT``: scraped on an internal address, never public."""
    app = web.Application()
    app[CTX_KEY] = main[CTX_KEY]
    if CORE_REDIS_KEY in main:
        app[CORE_REDIS_KEY] = main[CORE_REDIS_KEY]
    app.router.add_get("/metrics", metrics_view)
    app.router.add_get("/healthz", healthz)
    return app
