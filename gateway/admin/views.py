"""Routes of ``/admin``: the dashboard page, login/logout, and the JSON APIs it polls."""

from __future__ import annotations

import html
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from importlib import resources
from typing import Any
from urllib.parse import unquote_to_bytes

import orjson
from aiohttp import web
from multidict import MultiDict

from channels.core.inbound import ChannelError
from dispatcher import dead
from gateway.admin.auth import COOKIE, AdminAuth, Principal, same_origin
from gateway.admin.limiter import LimiterUnavailable, LoginLimiter
from gateway.alerts import AlertWatcher, recent_alerts
from gateway.context import ctx_of
from gateway.endpoint import read_body
from gateway.health_model import HealthModel, HealthReport, cards
from gateway.intake import REDIS_ERRORS
from gateway.logging import get_logger
from gateway.metrics import Flusher

log = get_logger("gateway.admin")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
STATIC = resources.files("gateway.admin").joinpath("static")
STATIC_TYPES = {".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml"}
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                               "frame-ancestors 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",  # "no-referrer" makes browsers send Origin: null
    "Cache-Control": "no-store",
}
REPORT_CACHE_S = 1.0
FORM_MAX_BYTES = 8 * 1024  # a login or action form is a few fields: read no more, inflated size included
_FORM_KEY: web.RequestKey[MultiDict[str]] = web.RequestKey("lapor_admin_form", MultiDict)
ADMIN_ACCOUNT = "admin"  # the one account the admin token stands for (the limiter's account part)


@dataclass
class AdminState:
    auth: AdminAuth
    model: Callable[[], HealthModel]
    flusher: Flusher | None = None
    watcher: AlertWatcher | None = None
    limiter: LoginLimiter | None = None
    _cache: tuple[float, HealthReport] | None = field(default=None, repr=False)

    async def report(self) -> HealthReport:
        now = time.monotonic()
        if self._cache and now - self._cache[0] < REPORT_CACHE_S:
            return self._cache[1]
        rep = await self.model().report()
        self._cache = (now, rep)
        return rep


ADMIN_KEY: web.AppKey[AdminState] = web.AppKey("lapor_admin", AdminState)


def _state(request: web.Request) -> AdminState:
    return request.app[ADMIN_KEY]


def _page(name: str, **values: str) -> str:
    text = STATIC.joinpath(name).read_text(encoding="utf-8")
    for k, v in values.items():
        text = text.replace(f"__{k.upper()}__", html.escape(v, quote=True))
    return text


def _html(text: str, status: int = 200) -> web.Response:
    return web.Response(text=text, status=status, content_type="text/html", charset="utf-8",
                        headers=SECURITY_HEADERS)


def _json(doc: Any, status: int = 200) -> web.Response:
    return web.json_response(doc, status=status, headers=SECURITY_HEADERS)


def _refuse(request: web.Request, api: bool) -> web.Response:
    auth = _state(request).auth
    if not auth.enabled:
        return _json({"error": "admin disabled: LAPOR_ADMIN_TOKEN not set"}, 403) if api else \
            _html(_page("disabled.html"), 403)
    if api:
        resp = _json({"error": "authentication required"}, 401)
        resp.headers["WWW-Authenticate"] = 'Bearer realm="lapor-admin"'
        return resp
    return _html(_page("login.html", error=""), 401)


async def read_form(request: web.Request) -> MultiDict[str]:
    """An urlencoded form read within ``FORM_MAX_BYTES`` (gzip included), whatever bytes it holds.

    Values are decoded with ``surrogateescape`` so that any byte sequence is a value that compares
    as unequal, never an error; other content types give an empty form. Raises ``ChannelError``
    (413 too large, 400 unreadable) for the caller to answer. Cached on the request.
    """
    if _FORM_KEY in request:
        return request[_FORM_KEY]
    form: MultiDict[str] = MultiDict()
    if request.content_type == "application/x-www-form-urlencoded" and request.body_exists:
        body = await read_body(request, FORM_MAX_BYTES)
        for pair in body.split(b"&"):
            name, sep, value = pair.partition(b"=")
            if sep:
                form.add(unquote_to_bytes(name.replace(b"+", b" ")).decode("utf-8", "surrogateescape"),
                         unquote_to_bytes(value.replace(b"+", b" ")).decode("utf-8", "surrogateescape"))
    request[_FORM_KEY] = form
    return form


def _form_refused(exc: ChannelError) -> web.Response:
    return _json({"error": exc.reason}, exc.status)


def protected(api: bool = True) -> Callable[[Callable[[web.Request, Principal], Awaitable[web.StreamResponse]]],
                                             Handler]:
    def deco(fn: Callable[[web.Request, Principal], Awaitable[web.StreamResponse]]) -> Handler:
        async def handler(request: web.Request) -> web.StreamResponse:
            p = await _state(request).auth.principal(request)
            if p is None:
                return _refuse(request, api)
            if request.method == "POST":
                try:
                    form = await read_form(request)
                except ChannelError as exc:
                    return _form_refused(exc)
                if not _state(request).auth.check_csrf(request, p, form.get("csrf")):
                    return _json({"error": "CSRF token missing or wrong"}, 403)
            return await fn(request, p)

        handler.__name__ = fn.__name__
        return handler

    return deco


# ------------------------------------------------------------------------------------------- pages
async def redirect_root(_request: web.Request) -> web.StreamResponse:
    raise web.HTTPFound("/admin/")


@protected(api=False)
async def dashboard(request: web.Request, p: Principal) -> web.StreamResponse:
    return _html(_page("index.html", csrf=_state(request).auth.csrf_for(p)))


async def login_form(request: web.Request) -> web.StreamResponse:
    if not _state(request).auth.enabled:
        return _refuse(request, api=False)
    return _html(_page("login.html", error=""))


async def login(request: web.Request) -> web.StreamResponse:
    state = _state(request)
    auth = state.auth
    if not auth.enabled:
        return _refuse(request, api=False)
    if not same_origin(request):
        return _json({"error": "cross-origin login refused"}, 403)
    client = request.remote or "?"  # the client's address through trusted proxies (gateway.proxy)
    limiter = state.limiter or LoginLimiter(ctx_of(request.app).redis)
    try:
        allowed = await limiter.attempt(client, ADMIN_ACCOUNT)
    except LimiterUnavailable:
        log.warning("admin.login_unavailable", client=client)
        return _html(_page("login.html", error="Login sementara tidak tersedia / login unavailable"), 503)
    if not allowed:
        return _html(_page("login.html", error="Terlalu banyak percobaan / too many attempts"), 429)
    try:
        form = await read_form(request)
    except ChannelError as exc:
        return _form_refused(exc)
    token = form.get("token")
    if token is None or not auth.check_token(token.strip()):
        log.warning("admin.login_failed", client=client)
        return _html(_page("login.html", error="Token salah / wrong token"), 401)
    try:
        value = await auth.new_session()
    except REDIS_ERRORS:
        return _html(_page("login.html", error="Login sementara tidak tersedia / login unavailable"), 503)
    await limiter.succeeded(client, ADMIN_ACCOUNT)
    resp = web.HTTPSeeOther("/admin/")
    auth.set_cookie(resp, request, value)
    log.info("admin.login", client=client)
    raise resp


@protected(api=True)
async def logout(request: web.Request, p: Principal) -> web.StreamResponse:
    """Ends the session server-side (the cookie stops working everywhere), then clears it."""
    try:
        await _state(request).auth.revoke(p)
    except REDIS_ERRORS:
        return _json({"error": "redis unreachable: session not revoked"}, 503)
    resp = web.HTTPSeeOther("/admin/login")
    resp.del_cookie(COOKIE, path="/admin")
    raise resp


async def static(request: web.Request) -> web.StreamResponse:
    name = request.match_info["name"]
    suffix = name[name.rfind("."):] if "." in name else ""
    if "/" in name or name.startswith(".") or suffix not in STATIC_TYPES:
        raise web.HTTPNotFound()
    f = STATIC.joinpath(name)
    if not f.is_file():
        raise web.HTTPNotFound()
    return web.Response(body=f.read_bytes(), content_type=STATIC_TYPES[suffix],
                        headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"})


# -------------------------------------------------------------------------------------------- APIs
@protected()
async def api_channels(request: web.Request, _p: Principal) -> web.StreamResponse:
    rep = (await _state(request).report()).to_dict()
    return _json({"generated_at": rep["generated_at"], "status": rep["status"], "channels": rep["channels"]})


@protected()
async def api_health(request: web.Request, _p: Principal) -> web.StreamResponse:
    """Everything the dashboard shows in one poll: channels, pipeline, dead letters, alerts."""
    doc = (await _state(request).report()).to_dict()
    ctx = ctx_of(request.app)
    try:
        doc["dead_letters"] = await dead.list_dead(ctx.redis, count=50)
        doc["alerts"] = await recent_alerts(ctx.redis, 10)
    except REDIS_ERRORS:
        doc["dead_letters"], doc["alerts"] = [], []
    return _json(doc)


@protected()
async def api_pipeline(request: web.Request, _p: Principal) -> web.StreamResponse:
    return _json((await _state(request).report()).to_dict()["pipeline"])


@protected()
async def api_channel_log(request: web.Request, _p: Principal) -> web.StreamResponse:
    card = request.match_info["channel"]
    if card not in cards():
        return _json({"error": f"unknown channel {card}"}, 404)
    limit = max(1, min(200, int(request.query.get("limit", "50")) if request.query.get("limit", "").isdigit()
                       else 50))
    ctx = ctx_of(request.app)
    try:
        entries: list[dict[str, Any]] = []
        for src in cards()[card]:
            entries += [dict(e, channel=src) for e in await ctx.channel_log.recent(src, limit)]
    except REDIS_ERRORS:
        return _json({"error": "redis unreachable"}, 503)
    entries.sort(key=lambda e: e.get("t", 0), reverse=True)
    return _json({"channel": card, "entries": entries[:limit]})


@protected()
async def api_dead(request: web.Request, _p: Principal) -> web.StreamResponse:
    try:
        return _json({"dead_letters": await dead.list_dead(ctx_of(request.app).redis, count=100)})
    except REDIS_ERRORS:
        return _json({"error": "redis unreachable"}, 503)


@protected()
async def api_replay(request: web.Request, p: Principal) -> web.StreamResponse:
    """Replay the given dead letters (``{"ids": [...]}`` or form field ``id``); ``all`` replays every one."""
    ids: list[str] | None
    if request.content_type == "application/json":
        try:
            body = orjson.loads(await read_body(request, 32 * FORM_MAX_BYTES))
        except orjson.JSONDecodeError:
            return _json({"error": "malformed JSON"}, 400)
        except ChannelError as exc:
            return _form_refused(exc)
        raw_ids = body.get("ids") if isinstance(body, dict) else None
        ids = None if body == {"all": True} or (isinstance(body, dict) and body.get("all") is True) else \
            [str(i) for i in raw_ids] if isinstance(raw_ids, list) else []
    else:
        form = await read_form(request)  # already read (and bounded) by ``protected``
        ids = None if form.get("all") == "1" else [str(v) for v in form.getall("id", [])]
    if ids is not None and not ids:
        return _json({"error": "give ids or all"}, 400)
    try:
        n = await dead.replay_dead(ctx_of(request.app).redis, ids)
    except REDIS_ERRORS:
        return _json({"error": "redis unreachable"}, 503)
    log.info("admin.replay", count=n, via=p.via)
    return _json({"replayed": n})


@protected()
async def api_alerts(request: web.Request, _p: Principal) -> web.StreamResponse:
    return _json({"alerts": await recent_alerts(ctx_of(request.app).redis, 50)})


def routes() -> list[tuple[str, str, Handler]]:
    return [
        ("GET", "/admin", redirect_root),
        ("GET", "/admin/", dashboard),
        ("GET", "/admin/login", login_form),
        ("POST", "/admin/login", login),
        ("POST", "/admin/logout", logout),
        ("GET", "/admin/static/{name}", static),
        ("GET", "/admin/api/channels", api_channels),
        ("GET", "/admin/api/health", api_health),
        ("GET", "/admin/api/pipeline", api_pipeline),
        ("GET", "/admin/api/channels/{channel}/log", api_channel_log),
        ("GET", "/admin/api/dead", api_dead),
        ("POST", "/admin/api/dead/replay", api_replay),
        ("GET", "/admin/api/alerts", api_alerts),
    ]
