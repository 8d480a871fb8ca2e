"""The aiohttp application: channel routes from the registry, health, metrics."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import redis.asyncio as aioredis
from aiohttp import web

from channels import registry
from config.settings import Settings
from gateway.channel_log import ChannelLog
from gateway.context import CTX_KEY, GatewayContext
from gateway.endpoint import wrap
from gateway.health import CORE_REDIS_KEY, healthz, metrics_view, readyz
from gateway.intake import Intake
from gateway.logging import get_logger
from gateway.outbound_api import setup_outbound

log = get_logger("gateway.app")


def redis_client(url: str) -> aioredis.Redis:
    # a generous pool: intake batches its writes, but pollers, binds and admin pages share this client,
    # and an exhausted pool would look like "Redis down" to intake (it would spool)
    return aioredis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=2, health_check_interval=15,
                                   retry_on_timeout=False, max_connections=1024)


def build_app(settings: Settings, redis_url: str) -> web.Application:
    """Routes and lifecycle; Redis clients and background tasks start with the app."""
    biggest = max(settings.max_body_bytes, settings.email_max_body_bytes)
    app = web.Application(client_max_size=biggest + 1)
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
    app.router.add_get("/metrics", metrics_view)
    for ep in registry.endpoints():
        handler = wrap(ep)
        for method in ep.methods:
            app.router.add_route(method, ep.path, handler)
    setup_outbound(app)  # two-way: the core's messages to citizens (gateway/outbound_api.py)
    try:
        from gateway.admin import setup_admin
    except ModuleNotFoundError as exc:
        if exc.name != "gateway.admin":
            raise
    else:
        setup_admin(app)

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        await intake.start()
        await chlog.start()
        for status in settings.channel_statuses():
            log.info("channel.status", channel=status.name, enabled=status.enabled, reason=status.reason)
        services = registry.services(ctx)
        for svc in services:
            await svc.start()
        yield
        for svc in services:
            await svc.stop()
        await chlog.close()
        await intake.close()
        await r.aclose()
        if CORE_REDIS_KEY in app:
            await app[CORE_REDIS_KEY].aclose()

    app.cleanup_ctx.append(lifecycle)
    return app
