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
import redis.exceptions
from aiohttp import web

from channels import registry
from channels.core.inbound import PayloadTooLarge
from config.settings import Settings
from dispatcher import outbound_keys as ok
from dispatcher.delivery import StatusEngine, body_digest, now_iso, status_queue
from dispatcher.routes import Route, read_route
from gateway.context import ctx_of
from gateway.endpoint import read_body
from gateway.group_commit import GroupCommit
from gateway.health import CORE_REDIS_KEY
from gateway.intake import REDIS_ERRORS
from gateway.logging import get_logger
from gateway.lua import with_run_commands
from gateway.spool import Spool, SpoolEntry, SpoolError, read_segment
from normalizer.twoway_contract import outbound_errors

log = get_logger("gateway.outbound_api")

_LUA = with_run_commands(
    resources.files("gateway").joinpath("outbound_store.lua").read_text(encoding="utf-8"))
_STATE: web.AppKey[OutboundApi] = web.AppKey("lapor_outbound_api")


@dataclass(frozen=True)
class Answer:
    """The HTTP answer to one POST, decided in its batch."""
    status: int
    body: dict[str, Any]


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
        self.committer: GroupCommit[tuple[dict[str, Any], bytes], Answer] = GroupCommit(self.store_batch)

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
        route = None if doc.get("reply_to") else await read_route(self.engine.redis, doc["record_id"])
        return self._channel_of(doc, route)

    def _channel_of(self, doc: dict[str, Any], route: Route | None) -> str:
        """The reply_to channel given the record's route (read when ``reply_to`` is absent)."""
        reply_to = doc.get("reply_to")
        if not reply_to:
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
        keys_, args = self._store_call(doc, body, channel)
        res: Any = await self._script(keys=keys_, args=args)
        return _s(res[0]), _s(res[1])

    def _store_call(self, doc: dict[str, Any], body: bytes, channel: str) -> tuple[list[str], list[Any]]:
        """KEYS and ARGV of ``outbound_store.lua`` for one message."""
        fields = {"id": doc["id"], "record_id": doc["record_id"], "kind": doc["kind"], "channel": channel,
                  "doc": orjson.dumps(doc).decode(), "digest": body_digest(body), "created_at": now_iso()}
        at = now_iso()
        queued = self.engine.delivery(doc["id"], fields, "queued", at, None)
        commands = self.engine.job_commands(queued)
        flat = [x for kv in fields.items() for x in kv]
        return ([ok.message(doc["id"]), ok.history(doc["id"]), ok.OUTBOUND_STREAM,
                 ok.status_marker(doc["id"], "queued")],
                [self.ttl_s, ok.STATUS_MARKER_TTL_S, orjson.dumps({"status": "queued", "at": at, "error": None}),
                 len(fields), *flat, *commands])

    async def store_batch(self, items: list[tuple[dict[str, Any], bytes]]) -> list[Answer | BaseException]:
        """The group commit of concurrent POSTs: one pipelined read of every message's status and
        (without ``reply_to``) route, then one pipeline of ``outbound_store.lua`` calls for the new
        ones — two round trips per batch instead of three per request. The script stays the
        authority on duplicates (two POSTs of one id in a batch: the second is ``dup``)."""
        r = self.engine.redis
        async with r.pipeline(transaction=False) as pipe:
            for doc, _ in items:
                pipe.hget(ok.message(doc["id"]), "status")
                if not doc.get("reply_to"):
                    pipe.get(ok.route(doc["record_id"]))
            read: list[Any] = await pipe.execute()
        answers: list[Answer | BaseException | None] = []
        calls: list[tuple[int, list[str], list[Any]]] = []
        pos = 0
        for doc, body in items:
            current = read[pos]
            pos += 1
            route = None
            if not doc.get("reply_to"):
                raw = read[pos]
                pos += 1
                route = None if raw is None else Route.from_json(raw)
            if current is not None:
                answers.append(Answer(200, {"id": doc["id"], "status": _s(current)}))
                continue
            try:
                channel = self._channel_of(doc, route)
            except NoRoute as exc:
                answers.append(Answer(exc.status, {"error": exc.error, "detail": exc.detail}))
                continue
            keys_, args = self._store_call(doc, body, channel)
            calls.append((len(answers), keys_, args))
            answers.append(None)
        if calls:
            for i, res in zip((c[0] for c in calls), await self._eval_many([c[1:] for c in calls]), strict=True):
                if isinstance(res, BaseException):
                    answers[i] = res
                else:
                    doc = items[i][0]
                    answers[i] = Answer(202 if _s(res[0]) == "new" else 200, {"id": doc["id"], "status": _s(res[1])})
        return [a if a is not None else RuntimeError("unanswered") for a in answers]

    async def _eval_many(self, calls: list[tuple[list[str], list[Any]]]) -> list[Any]:
        """Every call of the store script in one pipelined round trip (EVALSHA; loaded on NOSCRIPT)."""
        res = await self._evalsha_pipeline(calls)
        redo = [i for i, x in enumerate(res) if isinstance(x, redis.exceptions.NoScriptError)]
        if redo:  # Redis lost its script cache (restart, failover): nothing ran for those; load, redo
            await self.engine.redis.script_load(_LUA)
            for i, x in zip(redo, await self._evalsha_pipeline([calls[i] for i in redo]), strict=True):
                res[i] = x
        return res

    async def _evalsha_pipeline(self, calls: list[tuple[list[str], list[Any]]]) -> list[Any]:
        async with self.engine.redis.pipeline(transaction=False) as pipe:
            for keys_, args in calls:
                pipe.evalsha(self._script.sha, len(keys_), *keys_, *args)
            return list(await pipe.execute(raise_on_error=False))

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
    answer = await api.committer.submit((doc, body))  # group commit with concurrent POSTs
    return web.json_response(answer.body, status=answer.status)


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
                      Spool(Path(settings.data_dir) / "spool-outbound", settings.spool_max_mb * 1024**2))
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
