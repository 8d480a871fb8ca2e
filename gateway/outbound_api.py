"""The core's outbound API: ``POST /outbound/messages`` and ``GET /outbound/messages/{id}``.

A message is answered ``202 queued`` only once it is durable: in Redis (one Lua call claims the
id, writes the message hash and its history, appends ``lapor:outbound`` and enqueues the
``queued`` status job), or — Redis unreachable — in an fsync'd spool of its own
(``<data dir>/spool-outbound``), flushed in order and deduplicated when Redis returns; while
older messages wait there, new ones follow them so order holds. The same id again answers
``200`` with the current status and sends nothing. Routes are checked before accepting:
unknown record without ``reply_to`` ⇒ 404, a record nobody can be reached at or a disabled
channel ⇒ 422 ``no_route``. A spooled message whose route turns out missing at flush time is
stored and failed with ``no_route`` (its 202 was given; the core hears what became of it).
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import orjson
from aiohttp import web

from channels import registry
from channels.core.inbound import PayloadTooLarge
from config.settings import Settings
from dispatcher import outbound_keys as ok
from dispatcher.delivery import StatusEngine, body_digest, now_iso, status_queue
from dispatcher.routes import read_route
from gateway.context import ctx_of
from gateway.endpoint import read_body
from gateway.health import CORE_REDIS_KEY
from gateway.intake import REDIS_ERRORS
from gateway.logging import get_logger
from gateway.spool import Spool, SpoolEntry, SpoolError, read_segment
from normalizer.twoway_contract import outbound_errors

log = get_logger("gateway.outbound_api")

_LUA = resources.files("gateway").joinpath("outbound_store.lua").read_text(encoding="utf-8")
_STATE: web.AppKey[OutboundApi] = web.AppKey("lapor_outbound_api")


class NoRoute(Exception):
    """The citizen of this message cannot be reached (``status`` 404 or 422)."""

    def __init__(self, status: int, error: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.error, self.detail = status, error, detail


@dataclass
class OutboundApi:
    settings: Settings
    engine: StatusEngine
    channels: set[str]  # reply_to channels that have a sender (enabled)
    spool: Spool
    spooling: bool = False
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def __post_init__(self) -> None:
        self._script = self.engine.redis.register_script(_LUA)

    @property
    def ttl_s(self) -> int:
        return self.settings.route_ttl_days * 86400

    # ------------------------------------------------------------------ auth
    def auth_error(self, request: web.Request) -> web.Response | None:
        """403 disabled / 401 missing / 403 wrong; compares raw header bytes in constant time."""
        token = Settings.secret(self.settings.outbound_token)
        if token is None:
            return web.json_response({"error": "outbound API disabled"}, status=403)
        raw = request.headers.get("Authorization")
        if not raw:
            return web.json_response({"error": "missing bearer token"}, status=401)
        given = raw.encode("utf-8", "surrogateescape").strip()
        if not hmac.compare_digest(given, b"Bearer " + token.encode()):
            return web.json_response({"error": "wrong bearer token"}, status=403)
        return None

    # ------------------------------------------------------------------ routing
    async def channel_for(self, doc: dict[str, Any]) -> str:
        """The reply_to channel of this message, or ``NoRoute``."""
        reply_to = doc.get("reply_to")
        if not reply_to:
            route = await read_route(self.engine.redis, doc["record_id"])
            if route is None:
                raise NoRoute(404, "unknown_record", "unknown record_id and no reply_to")
            reply_to = route.reply_to
            if not reply_to:
                raise NoRoute(422, "no_route", "the record has no reply_to")
        if reply_to["channel"] not in self.channels:
            raise NoRoute(422, "no_route", f"channel {reply_to['channel']} is disabled")
        return str(reply_to["channel"])

    # ------------------------------------------------------------------ storing
    async def store(self, doc: dict[str, Any], body: bytes, channel: str) -> tuple[str, str]:
        """One Lua call; returns ('new'|'dup', status)."""
        fields = {"id": doc["id"], "record_id": doc["record_id"], "kind": doc["kind"], "channel": channel,
                  "doc": orjson.dumps(doc).decode(), "digest": body_digest(body), "created_at": now_iso()}
        at = now_iso()
        queued = self.engine.delivery(doc["id"], fields, "queued", at, None)
        commands = self.engine.job_commands(queued)
        flat = [x for kv in fields.items() for x in kv]
        res: Any = await self._script(
            keys=[ok.message(doc["id"]), ok.history(doc["id"]), ok.OUTBOUND_STREAM,
                  ok.status_marker(doc["id"], "queued")],
            args=[self.ttl_s, ok.STATUS_MARKER_TTL_S, orjson.dumps({"status": "queued", "at": at, "error": None}),
                  len(fields), *flat, *commands])
        return _s(res[0]), _s(res[1])

    async def spool_append(self, doc: dict[str, Any]) -> None:
        async with self.lock:
            await self.spool.append([SpoolEntry(doc["id"], doc["id"], orjson.dumps(doc).decode())])
            self.spooling = True

    async def flush(self) -> int:
        """Store every spooled message, oldest first; route problems become failed statuses."""
        await self.engine.redis.ping()
        async with self.lock:
            self.spool.rotate()
        moved = 0
        for seg in self.spool.segments():
            entries = read_segment(seg)
            if entries is None:
                continue
            for e in entries:
                doc = orjson.loads(e.msg)
                await self._store_spooled(doc)
                moved += 1
            seg.unlink(missing_ok=True)
            log.info("outbound.spool_flushed", segment=seg.name)
        async with self.lock:
            if not self.spool.writing and not self.spool.segments():
                self.spooling = False
        return moved

    async def _store_spooled(self, doc: dict[str, Any]) -> None:
        body = orjson.dumps(doc)
        try:
            channel = await self.channel_for(doc)
        except NoRoute as exc:
            reply_to = doc.get("reply_to") or {}
            route = await read_route(self.engine.redis, doc["record_id"])
            channel = reply_to.get("channel") or (route.channel if route else "unknown")
            new, _ = await self.store(doc, body, channel)
            if new == "new":
                await self.engine.report(doc["id"], "failed", error={"code": "no_route", "detail": exc.detail})
            return
        await self.store(doc, body, channel)

    async def flush_loop(self) -> None:
        while True:
            await asyncio.sleep(self.settings.spool_flush_interval_s)
            if not (self.spooling or self.spool.segments()):
                continue
            try:
                await self.flush()
            except REDIS_ERRORS:
                continue
            except Exception as exc:  # never let the flusher die
                log.exception("outbound.flush_failed", error=type(exc).__name__)


def _s(v: Any) -> str:
    return v.decode() if isinstance(v, bytes) else str(v)


def api_of(app: web.Application) -> OutboundApi:
    """The app's outbound API state (the admin's replay stores through the same path)."""
    return app[_STATE]


def _retry_later() -> web.Response:
    """503 with ``Retry-After``: neither Redis nor the spool could take the request now."""
    return web.json_response({"error": "temporarily unavailable, retry"}, status=503, headers={"Retry-After": "5"})


async def post_message(request: web.Request) -> web.Response:
    api = request.app[_STATE]
    if (refused := api.auth_error(request)) is not None:
        return refused
    try:
        body = await read_body(request, api.settings.max_body_bytes) if request.body_exists else b""
    except PayloadTooLarge as exc:
        return web.json_response({"error": exc.reason}, status=413)
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        return web.json_response({"error": "malformed JSON", "details": str(exc)}, status=400)
    errors = outbound_errors(doc)
    if errors:
        return web.json_response({"error": "invalid", "details": errors}, status=400)
    if not api.spooling:
        try:
            return await _store_now(api, doc, body)
        except REDIS_ERRORS as exc:
            log.warning("outbound.redis_unavailable", error=type(exc).__name__)
    try:
        await api.spool_append(doc)
    except SpoolError as exc:
        log.error("outbound.spool_failed", error=str(exc))
        return _retry_later()
    return web.json_response({"id": doc["id"], "status": "queued"}, status=202)


async def _store_now(api: OutboundApi, doc: dict[str, Any], body: bytes) -> web.Response:
    current = await api.engine.redis.hget(ok.message(doc["id"]), "status")
    if current is not None:
        return web.json_response({"id": doc["id"], "status": _s(current)}, status=200)
    try:
        channel = await api.channel_for(doc)
    except NoRoute as exc:
        return web.json_response({"error": exc.error, "detail": exc.detail}, status=exc.status)
    new, status = await api.store(doc, body, channel)
    return web.json_response({"id": doc["id"], "status": status}, status=202 if new == "new" else 200)


async def get_message(request: web.Request) -> web.Response:
    api = request.app[_STATE]
    if (refused := api.auth_error(request)) is not None:
        return refused
    try:
        view = await api.engine.view(request.match_info["id"])
    except REDIS_ERRORS:
        return _retry_later()
    if view is None:
        return web.json_response({"error": "unknown outbound message"}, status=404)
    return web.json_response(view)


def setup_outbound(app: web.Application) -> None:
    """Routes and the spool flusher of the outbound API (called by ``build_app``)."""
    app.router.add_post("/outbound/messages", post_message)
    app.router.add_get("/outbound/messages/{id}", get_message)

    ctx = ctx_of(app)
    settings = ctx.settings
    engine = StatusEngine(ctx.redis, status_queue(settings), settings.route_ttl_days * 86400,
                          outbox=CORE_REDIS_KEY in app)  # the core on another Redis: workers move statuses
    api = OutboundApi(settings, engine, set(registry.senders(settings)),
                      Spool(Path(settings.data_dir) / "spool-outbound"))
    api.spooling = api.spool.has_pending()
    app[_STATE] = api

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        task = asyncio.create_task(api.flush_loop(), name="outbound-spool-flusher")
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
        api.spool.rotate()

    app.cleanup_ctx.append(lifecycle)
