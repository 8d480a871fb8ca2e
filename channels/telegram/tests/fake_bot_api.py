"""A local Telegram Bot API on loopback: checks requests the way core.telegram.org/bots/api documents.

- methods live at ``/bot<token>/<method>``; a wrong token is 401 ``Unauthorized``, an unknown
  method 404; parameters come as query string, form (urlencoded or multipart) or JSON, with
  object-valued parameters (``reply_parameters``, ``allowed_updates``) JSON-serialized in forms;
- ``getUpdates``: ``offset`` confirms every update with a lower id (they are gone for good),
  ``limit`` 1–100, ``timeout`` long-polls; 409 while a webhook is set; as on Telegram, a second
  ``getUpdates`` while one is waiting ends the first one with 409 "terminated by other getUpdates
  request" (counted in ``conflicts``); a long poll whose client went away ends; ``activity`` has
  one span per long poll, the client named by ``activity.who`` when a test sets it;
- ``getFile`` → ``file_path``, bytes at ``/file/bot<token>/<file_path>``;
- ``sendMessage``: ``chat_id`` and a 1–4096 character ``text`` required; recorded. ``flood``
  makes the next calls answer 429 with ``parameters.retry_after``.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import json
import re
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.support.activity import Activity, Span
from tests.support.loopback import LoopbackServer

_request: contextvars.ContextVar[web.Request] = contextvars.ContextVar("fake_bot_api_request")
CONFLICT = "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"


class ApiError(Exception):
    def __init__(self, code: int, description: str, parameters: dict[str, Any] | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters


@dataclass
class Sent:
    chat_id: int
    text: str
    reply_parameters: dict[str, Any] | None
    at: float


@dataclass
class FakeBotApi(LoopbackServer):
    token: str
    updates: list[dict[str, Any]] = field(default_factory=list)
    files: dict[str, bytes] = field(default_factory=dict)  # file_id -> bytes
    sent: list[Sent] = field(default_factory=list)
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    webhook_set: bool = False
    webhook: dict[str, Any] = field(default_factory=dict)  # what setWebhook registered
    webhook_last_error: str | None = None
    flood: int = 0  # answer this many sendMessage calls with 429
    flood_retry_after: int = 2
    blocked_chats: set[int] = field(default_factory=set)
    activity: Activity = field(default_factory=Activity)  # observation: one span per getUpdates
    conflicts: int = 0  # getUpdates calls that ended another one still waiting
    url: str = ""

    def __post_init__(self) -> None:
        self._new = asyncio.Event()
        self._polls: dict[int, Span] = {}  # id(span) -> span of the getUpdates calls waiting now
        self._superseded: set[int] = set()

    # ------------------------------------------------------------------ control
    def push(self, *updates: dict[str, Any]) -> None:
        self.updates.extend(updates)
        self._new.set()

    def routes(self, app: web.Application) -> None:
        app.router.add_route("*", "/bot{token}/{method}", self._method)
        app.router.add_get("/file/bot{token}/{path:.+}", self._file)


    def calls_of(self, method: str) -> list[dict[str, Any]]:
        return [p for m, p in self.calls if m == method]

    # ------------------------------------------------------------------ HTTP
    async def _params(self, request: web.Request) -> dict[str, Any]:
        params: dict[str, Any] = dict(request.query)
        if request.method == "POST" and request.can_read_body:
            if request.content_type == "application/json":
                body = await request.json()
                if not isinstance(body, dict):
                    raise ApiError(400, "Bad Request: JSON body must be an object")
                params.update(body)
            elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
                form = await request.post()
                params.update({k: v for k, v in form.items() if isinstance(v, str)})
            else:
                raise ApiError(400, f"Bad Request: unsupported content type {request.content_type}")
        return params

    async def _method(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response({"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401)
        method = request.match_info["method"]
        handler = getattr(self, f"_api_{method}", None)
        if handler is None:
            return web.json_response({"ok": False, "error_code": 404, "description": "Not Found"}, status=404)
        try:
            params = await self._params(request)
            self.calls.append((method, params))
            _request.set(request)
            result = await handler(params)
        except ApiError as exc:
            doc: dict[str, Any] = {"ok": False, "error_code": exc.code, "description": exc.description}
            if exc.parameters:
                doc["parameters"] = exc.parameters
            return web.json_response(doc, status=exc.code)
        return web.json_response({"ok": True, "result": result})

    async def _file(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.Response(status=401)
        file_id = request.match_info["path"].rsplit("/", 1)[-1]
        if file_id not in self.files:
            return web.Response(status=404)
        return web.Response(body=self.files[file_id], content_type="application/octet-stream")

    # ------------------------------------------------------------------ methods
    @staticmethod
    def _int(params: dict[str, Any], name: str, default: int | None = None) -> int | None:
        v = params.get(name)
        if v is None:
            return default
        try:
            return int(v)
        except (TypeError, ValueError):
            raise ApiError(400, f"Bad Request: field \"{name}\" must be an Integer") from None

    @staticmethod
    def _json(params: dict[str, Any], name: str) -> Any:
        v = params.get(name)
        if isinstance(v, str):
            try:
                return json.loads(v)
            except ValueError:
                raise ApiError(400, f"Bad Request: can't parse {name} JSON object") from None
        return v

    async def _api_getUpdates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        if self.webhook_set:
            raise ApiError(409, "Conflict: can't use getUpdates method while webhook is active")
        offset = self._int(params, "offset")
        limit = self._int(params, "limit", 100) or 100
        timeout = self._int(params, "timeout", 0) or 0
        allowed = self._json(params, "allowed_updates")
        if not 1 <= limit <= 100:
            raise ApiError(400, "Bad Request: limit must be between 1 and 100")
        if allowed is not None and not (isinstance(allowed, list) and all(isinstance(a, str) for a in allowed)):
            raise ApiError(400, "Bad Request: allowed_updates must be an Array of String")
        if offset is not None:
            self.updates = [u for u in self.updates if u["update_id"] >= offset]
        request = _request.get()
        transport = request.transport
        span = self.activity.begin(transport.get_extra_info("peername") if transport else None,
                                   transport.get_extra_info("sockname") if transport else None)
        if self._polls:  # Telegram ends the poll already waiting, this one goes on
            self.conflicts += len(self._polls)
            self._superseded.update(self._polls)
            self._new.set()
        self._polls[id(span)] = span
        try:
            deadline = time.monotonic() + timeout
            while not self.updates and time.monotonic() < deadline:
                if id(span) in self._superseded:
                    raise ApiError(409, CONFLICT)
                if request.transport is None or request.transport.is_closing():
                    break  # the client went away (its process died): nobody is polling any more
                self._new.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._new.wait(), min(0.2, max(0.0, deadline - time.monotonic())))
            if id(span) in self._superseded:
                raise ApiError(409, CONFLICT)
        finally:
            self._polls.pop(id(span), None)
            self._superseded.discard(id(span))
            self.activity.end(span)
        out = self.updates[:limit]
        if allowed:
            out = [u for u in out if any(k in u for k in allowed)]
        return out

    async def _api_setWebhook(self, params: dict[str, Any]) -> bool:
        url = params.get("url") or ""
        if not url.startswith("https://"):
            raise ApiError(400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook")
        secret = params.get("secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
            raise ApiError(400, "Bad Request: secret token contains unallowed characters")
        mc = self._int(params, "max_connections", 40)
        if mc is None or not 1 <= mc <= 100:
            raise ApiError(400, "Bad Request: max_connections must be between 1 and 100")
        allowed = self._json(params, "allowed_updates")
        drop = self._json(params, "drop_pending_updates")
        self.webhook = {"url": url, "secret_token": secret, "max_connections": mc, "allowed_updates": allowed,
                        "drop_pending_updates": drop}
        self.webhook_set = True
        return True

    async def _api_deleteWebhook(self, params: dict[str, Any]) -> bool:
        self.webhook, self.webhook_set = {}, False
        return True

    async def _api_getWebhookInfo(self, params: dict[str, Any]) -> dict[str, Any]:
        info: dict[str, Any] = {"url": self.webhook.get("url", "") if self.webhook_set else "",
                                "has_custom_certificate": False, "pending_update_count": len(self.updates)}
        if self.webhook_last_error:
            info.update(last_error_date=int(time.time()) - 5, last_error_message=self.webhook_last_error)
        return info

    async def _api_getFile(self, params: dict[str, Any]) -> dict[str, Any]:
        file_id = params.get("file_id")
        if not file_id or file_id not in self.files:
            raise ApiError(400, "Bad Request: invalid file_id")
        data = self.files[file_id]
        return {"file_id": file_id, "file_unique_id": "u" + file_id[-6:], "file_size": len(data),
                "file_path": f"photos/{file_id}"}

    async def _api_sendMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = self._int(params, "chat_id")
        text = params.get("text")
        if chat_id is None:
            raise ApiError(400, "Bad Request: chat_id is empty")
        if not isinstance(text, str) or not text.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if len(text) > 4096:
            raise ApiError(400, "Bad Request: message is too long")
        reply = self._json(params, "reply_parameters")
        if reply is not None and not (isinstance(reply, dict) and isinstance(reply.get("message_id"), int)):
            raise ApiError(400, "Bad Request: invalid reply parameters")
        markup = self._json(params, "reply_markup")
        if markup is not None and not (isinstance(markup, dict) and all(
                isinstance(row, list) and all(isinstance(b, dict) and isinstance(b.get("text"), str) for b in row)
                for row in markup.get("keyboard", []))):
            raise ApiError(400, "Bad Request: invalid reply markup")
        if self.flood > 0:
            self.flood -= 1
            raise ApiError(429, f"Too Many Requests: retry after {self.flood_retry_after}",
                           {"retry_after": self.flood_retry_after})
        if chat_id in self.blocked_chats:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        self.sent.append(Sent(chat_id, text, reply, time.monotonic()))
        return {"message_id": 9000 + len(self.sent), "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private"}, "text": text}
