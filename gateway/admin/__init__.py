"""Admin dashboard, admin JSON APIs, and the per-process health machinery started with the app.

``setup_admin(app)`` (called by ``gateway.app.build_app``) adds ``/admin/…`` and starts, for
the life of the app: the metrics flusher (counts → Redis about once a second) and the alert
watcher (health evaluated every ``health_eval_interval_s``; one alert per transition).
"""

from __future__ import annotations

from aiohttp import web

from gateway import metrics
from gateway.admin.auth import AdminAuth
from gateway.admin.limiter import LoginLimiter
from gateway.admin.views import ADMIN_KEY, AdminState, routes
from gateway.alerts import AlertWatcher, Damping, sinks_from
from gateway.context import ctx_of
from gateway.health import CORE_REDIS_KEY
from gateway.health_model import HealthModel

__all__ = ["ADMIN_KEY", "AdminState", "setup_admin"]


def setup_admin(app: web.Application) -> None:
    ctx = ctx_of(app)
    settings = ctx.settings

    def model() -> HealthModel:
        return HealthModel(settings, ctx.redis, core_redis=app.get(CORE_REDIS_KEY) or ctx.redis,
                           spool_pending=ctx.intake.spool.pending_count)

    state = AdminState(auth=AdminAuth(settings, ctx.redis), model=model, limiter=LoginLimiter(ctx.redis))
    app[ADMIN_KEY] = state
    for method, path, handler in routes():
        app.router.add_route(method, path, handler)

    async def on_startup(app: web.Application) -> None:
        state.flusher = await metrics.Flusher.acquire(ctx.redis)
        state.watcher = AlertWatcher(model(), ctx.redis, sinks_from(settings), settings.health_eval_interval_s,
                                     damping=Damping.from_settings(settings))
        await state.watcher.start()

    async def on_shutdown(app: web.Application) -> None:
        if state.watcher is not None:
            await state.watcher.stop()
        if state.flusher is not None:
            await state.flusher.release()

    app.on_startup.append(on_startup)
    app.on_shutdown.append(on_shutdown)
