"""The sender base: what every channel's sender shares, so each one only says what is its own.

- ``SenderBase``: the call log the outbound worker attaches (every provider call is recorded:
  channel, method, URL with its secrets redacted, status, latency, error), ``close()`` for the
  worker's shutdown, and ``recorded()`` for calls that are not plain HTTP (SMTP, the SMPP
  outbox, an SDK).
- ``HttpSender``: one ``aiohttp.ClientSession`` per sender, created on first use and closed on
  shutdown, and one HTTP status → error table (``error_for_status``): 2xx success; 429 and 5xx,
  timeouts and connection errors transient (``Retry-After`` honoured); every other status
  permanent. A channel that knows better (Meta's error codes) overrides ``check``.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import aiohttp
import orjson
from aiolimiter import AsyncLimiter

from channels.core.outbound import (
    CallRecorder,
    NullRecorder,
    OutboundMessage,
    PermanentSendError,
    SendError,
    SendResult,
    TransientSendError,
)

REDACTED = "<redacted>"
# Telegram puts the bot token in the path: /bot123456:ABC-def/sendMessage
_BOT_TOKEN = re.compile(r"/bot\d+:[A-Za-z0-9_-]+")


def redact_url(url: str, params: Mapping[str, Any] | None = None) -> str:
    """``url`` fit for the channel log: no user:password, no bot token, no query values.

    Query values are dropped whatever their name: besides tokens and passwords they carry the
    citizen's number and the text (Kannel ``sendsms``), so only the parameter names stay.
    """
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    path = _BOT_TOKEN.sub("/bot" + REDACTED, parts.path)
    names = [k for k, _v in parse_qsl(parts.query, keep_blank_values=True)] + list(params or {})
    query = "&".join(f"{k}={REDACTED}" for k in dict.fromkeys(names))
    return urlunsplit((parts.scheme, host, path, query, ""))


def retry_after_s(value: str | None, *, now: datetime | None = None) -> float | None:
    """``Retry-After`` as seconds from now: delta-seconds or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def error_for_status(status: int, *, retry_after: float | None = None, detail: str = "") -> SendError | None:
    """The one HTTP status table: None for 2xx, else the error to raise.

    429 ⇒ transient, rate limited; 5xx ⇒ transient; both keep the provider's ``Retry-After``.
    Anything else (4xx, an unfollowed 3xx) will not get better by retrying ⇒ permanent.
    """
    what = f"HTTP {status}" + (f": {detail}" if detail else "")
    if 200 <= status < 300:
        return None
    if status == 429:
        return TransientSendError(f"rate limited ({what})", retry_after=retry_after, rate_limited=True)
    if status >= 500:
        return TransientSendError(what, retry_after=retry_after)
    if status in (404, 410):
        return PermanentSendError(what, code="invalid_recipient")
    return PermanentSendError(what)


@dataclass
class CallNote:
    """What ``SenderBase.recorded`` writes to the call log; the caller sets ``status`` as it learns it."""

    status: int | str = "error"
    error: str | None = None
    counts: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class HttpReply:
    """A provider's answer, read in full (answers to sends are small)."""

    status: int
    headers: Mapping[str, str]
    body: bytes

    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self) -> dict[str, Any]:
        """The body as a JSON object, ``{}`` when it is not one."""
        try:
            doc = orjson.loads(self.body)
        except orjson.JSONDecodeError:
            return {}
        return doc if isinstance(doc, dict) else {}

    @property
    def retry_after(self) -> float | None:
        return retry_after_s(self.headers.get("Retry-After"))


class SenderBase:
    """Lifecycle and call log of a sender. Subclasses implement ``__call__(msg) -> SendResult``."""

    def __init__(self) -> None:
        self.calls: CallRecorder = NullRecorder()

    def attach(self, calls: CallRecorder) -> None:
        """The outbound worker hands over its channel log before the first send."""
        self.calls = calls

    async def close(self) -> None:
        """Release what the sender holds; the outbound worker calls it when it stops."""

    async def __call__(self, msg: OutboundMessage) -> SendResult:
        raise NotImplementedError

    @contextlib.asynccontextmanager
    async def recorded(self, channel: str, method: str, url: str,
                       params: Mapping[str, Any] | None = None) -> AsyncIterator[CallNote]:
        """Time a provider call and record it, whatever happens; a ``SendError`` sets the status if unset.

        ``url`` is redacted here (``redact_url``), so callers pass the real one.
        """
        note = CallNote()
        t0 = time.perf_counter()
        try:
            yield note
        except SendError as exc:
            note.error = note.error or exc.reason
            raise
        except Exception as exc:
            note.error = note.error or type(exc).__name__
            raise
        finally:
            self.calls.record(channel, status=note.status, latency_ms=(time.perf_counter() - t0) * 1000,
                              method=method, path=redact_url(url, params), error=note.error, direction="out",
                              **note.counts)


class HttpSender(SenderBase):
    """A sender that talks HTTP: one shared session, one status table, every call in the call log."""

    def __init__(self, *, timeout_s: float = 15.0) -> None:
        super().__init__()
        self.timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._session: aiohttp.ClientSession | None = None
        self.sessions_opened = 0  # how many sessions this sender created (one in a healthy life)

    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self.timeout)
            self.sessions_opened += 1
        return self._session

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()

    async def request(self, channel: str, method: str, url: str, *, params: Mapping[str, str] | None = None,
                      json: Any = None, data: Any = None, headers: Mapping[str, str] | None = None) -> HttpReply:
        """One provider call, recorded; network trouble and timeouts become ``TransientSendError``.

        The reply is returned whatever its status: call ``check`` (or read it first, as SMS
        gateways that answer 200 with an error text need).
        """
        async with self.recorded(channel, method, url, params) as note:
            try:
                async with self.session().request(method, url, params=params, json=json, data=data,
                                                  headers=headers) as resp:
                    reply = HttpReply(resp.status, dict(resp.headers), await resp.read())
            except (TimeoutError, aiohttp.ClientError) as exc:
                note.status = "timeout" if isinstance(exc, TimeoutError) else "unreachable"
                raise TransientSendError(f"{channel} provider unreachable: {type(exc).__name__}") from None
            note.status = reply.status
            if not 200 <= reply.status < 300:
                note.error = f"HTTP {reply.status}"
        return reply

    def check(self, reply: HttpReply, detail: str = "") -> None:
        """Raise what ``error_for_status`` says for this reply; channels override for provider codes."""
        err = error_for_status(reply.status, retry_after=reply.retry_after, detail=detail)
        if err is not None:
            raise err


class KeyedLimiters:
    """A rate limiter per key (chat, recipient), made by ``make`` on first use; past ``cap`` keys
    the least recently used is dropped, so a flood of distinct citizens cannot grow memory."""

    def __init__(self, make: Callable[[str], AsyncLimiter], cap: int = 10_000) -> None:
        self._make = make
        self._cap = cap
        self._by_key: OrderedDict[str, AsyncLimiter] = OrderedDict()

    def __call__(self, key: str) -> AsyncLimiter:
        lim = self._by_key.get(key)
        if lim is None:
            lim = self._by_key[key] = self._make(key)
            if len(self._by_key) > self._cap:
                self._by_key.popitem(last=False)
        else:
            self._by_key.move_to_end(key)
        return lim
