"""The contract every HTTP channel adapter follows (Courier-style).

An adapter authenticates a provider request and parses it into ``InboundMessage``s. It does
no Redis I/O and no business logic: the shared endpoint wrapper (``gateway.endpoint``) checks
header/query credentials, reads the body within the endpoint's limit (inflated size included),
calls the adapter, stores the messages through the ingest path, answers the provider only after
that, and writes the channel log and metrics for every call.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import orjson
from aiohttp import web

from channels.core.ingest import Accepted
from normalizer.models import InboundMessage

if TYPE_CHECKING:
    from config.settings import Settings


class ChannelError(Exception):
    """A request refused with a 4xx; ``reason`` goes to the channel log and the answer."""

    status = 400
    kind = "invalid"  # metrics: rejected_invalid | rejected_auth

    def __init__(self, reason: str, details: Any = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.details = details


class BadRequest(ChannelError):
    status = 400


class Unauthorized(ChannelError):
    status = 401
    kind = "auth"


class Forbidden(ChannelError):
    status = 403
    kind = "auth"


class PayloadTooLarge(ChannelError):
    status = 413


class UnsupportedMediaType(ChannelError):
    status = 415


Responder = Callable[[list[Accepted]], web.StreamResponse]


@dataclass
class ParseOutcome:
    """What an adapter made of one request.

    ``messages`` are stored together in one intake batch; ``respond`` builds the provider's
    answer from the intake results (default: 200 JSON). ``response`` short-circuits (e.g. a
    verification handshake): nothing is stored. ``skipped`` counts events that are not
    complaints (echo, receipt, read, …), by reason.
    """

    messages: list[InboundMessage] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)
    respond: Responder | None = None
    response: web.StreamResponse | None = None
    statuses: list[DeliveryReport] = field(default_factory=list)


@dataclass(frozen=True)
class DeliveryReport:
    """A provider's word on a message we sent (DLR, receipt, webhook status)."""

    channel: str  # the record channel the message went out on (sms, facebook, whatsapp, ...)
    status: str  # sent | delivered | read | failed (delivery-status contract)
    provider_id: str | None = None  # the provider's id of the message or part, as the send result recorded it
    outbound_id: str | None = None  # ours, when the provider echoes it (Kannel dlr-url)
    part: int | None = None
    at: str | None = None  # ISO 8601 UTC, when the provider says it happened
    error_code: str | None = None  # delivery-status error.code when failed
    error_detail: str | None = None


@dataclass
class ChannelRequest:
    """One provider request as the adapter sees it: the raw body bytes, already size-checked."""

    request: web.Request
    body: bytes
    settings: Settings

    @property
    def query(self) -> Any:
        return self.request.query

    @property
    def headers(self) -> Any:
        return self.request.headers

    @property
    def method(self) -> str:
        return self.request.method


Parser = Callable[[ChannelRequest], Awaitable[ParseOutcome]]


class Authenticator(Protocol):
    """Checks a request's credential (``channels.core.verify``); raises ``Unauthorized``/``Forbidden``.

    ``before_body``: the credential is in headers/query and is checked before the body is read
    or inflated; otherwise (a signature over the body) after the bounded read, before parsing.
    """

    before_body: bool

    def __call__(self, req: ChannelRequest) -> None: ...


@dataclass(frozen=True)
class Endpoint:
    """One HTTP route of a channel."""

    channel: str  # key for health, channel log and metrics (api, sms, meta, twitter, telegram, email)
    path: str
    methods: tuple[str, ...]
    parse: Parser
    max_body: int | str | None = None  # None: the settings' default limit; str: name of a Settings field
    # the credential check; ``None`` only for handshakes, which check their own token
    authenticate: Authenticator | None = None


def json_object(body: bytes) -> dict[str, Any]:
    """The body as a JSON object, or the 400 every JSON adapter gives (malformed / not an object)."""
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BadRequest("malformed JSON", details=str(exc)) from None
    if not isinstance(doc, dict):
        raise BadRequest("the body must be a JSON object")
    return doc


def json_answer(status: int, doc: dict[str, Any]) -> web.Response:
    """A JSON answer serialized by orjson (compact; several times cheaper than ``json.dumps``)."""
    return _json_bytes(status, orjson.dumps(doc))


def _json_bytes(status: int, body: bytes) -> web.Response:
    return web.Response(body=body, status=status, content_type="application/json", charset="utf-8")


# The two success answers below are written byte for byte as ``web.json_response`` wrote them
# (providers and agencies may compare them), without ``json.dumps`` on the accept path.


def default_respond(results: list[Accepted]) -> web.Response:
    duplicates = sum(1 for r in results if r.duplicate)
    accepted = len(results) - duplicates
    return _json_bytes(200, b'{"status": "ok", "accepted": %d, "duplicates": %d}' % (accepted, duplicates))


def record_respond(results: list[Accepted]) -> web.Response:
    """The answer for a request that carries one complaint: its record id, 202 new / 200 duplicate."""
    if len(results) != 1:
        return default_respond(results)
    res = results[0]
    # record ids are our ULIDs (ASCII): orjson's quoting of one is what json.dumps writes
    rid = orjson.dumps(res.record_id) if res.record_id.isascii() else json.dumps(res.record_id).encode()
    if res.duplicate:
        return _json_bytes(200, b'{"id": %s, "status": "duplicate"}' % rid)
    return _json_bytes(202, b'{"id": %s, "status": "accepted"}' % rid)
