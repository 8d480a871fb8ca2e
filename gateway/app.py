"""The aiohttp application: channel routes from the registry, health, metrics."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import redis.asyncio as aioredis
from aiohttp import web

from channels import registry
from config.settings import Settings
from gateway.admin import setup_admin
from gateway.channel_log import ChannelLog
from gateway.context import CTX_KEY, GatewayContext
from gateway.endpoint import wrap
from gateway.health import CORE_REDIS_KEY, healthz, metrics_view, readyz
from gateway.intake import Intake
from gateway.logging import get_logger
from gateway.openapi import openapi_view
from gateway.presence import Presence
from gateway.proxy import TrustedProxies, proxy_middleware
from gateway.request_id import request_id_middleware

log = get_logger("gateway.app")


def redis_client(url: str) -> aioredis.Redis:
    # a generous pool: intake batches its writes, but pollers, binds and admin pages share this client,
    # and an exhausted pool would look like "Redis down" to intake (it would spool)
    return aioredis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=2, health_check_interval=15,
                                   retry_on_timeout=False, max_connections=1024)


def build_app(settings: Settings, redis_url: str) -> web.Application:
    """Routes and lifecycle; Redis clients and background tasks start with the app."""
    biggest = max(settings.max_body_bytes, settings.email_max_body_bytes)
    proxies = TrustedProxies.from_spec(settings.trusted_proxies)
    # outermost first: the client's view through trusted proxies, then a request id for every log line
    app = web.Application(client_max_size=biggest + 1,
                          middlewares=[proxy_middleware(proxies), request_id_middleware(proxies)])
    r = redis_client(redis_url)
    intake = Intake(r, Path(settings.data_dir) / "spool", dedupe_ttl_s=settings.dedupe_ttl_s,
                    flush_interval_s=settings.spool_flush_interval_s)
    chlog = ChannelLog(r, size=settings.channel_log_size, ttl_s=settings.channel_log_ttl_s)
    ctx = GatewayContext(settings=settings, redis=r, intake=intake, channel_log=chlog)
    app[CTX_KEY] = ctx
    if settings.core_redis_url and settings.core_redis_url != redis_url:
        app[CORE_REDIS_KEY] = redis_client(settings.core_redis_url)

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    if settings.metrics_port is None:  # else only on the separate listener (build_metrics_app)
        app.router.add_get("/metrics", metrics_view)
    app.router.add_get("/openapi.json", openapi_view)
    for ep in registry.endpoints():
        handler = wrap(ep)
        for method in ep.methods:
            app.router.add_route(method, ep.path, handler)
    setup_admin(app)

    presence = Presence(r, settings)

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        await intake.start()
        await chlog.start()
        await presence.start()
        for status in settings.channel_statuses():
            log.info("channel.status", channel=status.name, enabled=status.enabled, reason=status.reason)
        services = registry.services(ctx)
        for svc in services:
            await svc.start()
        yield
        for svc in services:
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
