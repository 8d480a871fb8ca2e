"""Credential checks for every inbound endpoint, with one policy.

- channel not configured (no secret set): 403 ``channel disabled``;
- credential absent or empty: 401;
- credential present but wrong or malformed: 403.

A credential is whatever bytes the client sent. Header values reach us as ``str`` decoded with
``surrogateescape``; they are turned back into the exact bytes and compared with
``hmac.compare_digest`` on bytes, so non-ASCII, non-UTF-8, empty, huge or badly encoded values
are refused like any other wrong value and never raise.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from channels.core.inbound import ChannelRequest, Forbidden, ParseOutcome, Unauthorized

_DIGESTS: dict[bytes, Callable[..., Any]] = {b"sha256": hashlib.sha256, b"sha1": hashlib.sha1}


def raw_bytes(value: str | bytes | None) -> bytes | None:
    """The bytes a client sent for a header/query value (``None`` stays ``None``)."""
    if value is None or isinstance(value, bytes):
        return value
    try:
        return value.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # lone surrogates outside the escape range: still just bytes
        return value.encode("utf-8", "surrogatepass")


def check(given: bytes | None, expected: str | None, what: str) -> None:
    """Apply the policy to one presented credential against the configured secret."""
    if expected is None:
        raise Forbidden("channel disabled")
    if not given:
        raise Unauthorized(f"missing {what}")
    if not hmac.compare_digest(given, expected.encode("utf-8", "surrogateescape")):
        raise Forbidden(f"wrong {what}")


def _scheme(header: bytes | None, scheme: bytes) -> bytes | None:
    """The credential after ``<scheme> `` (scheme case-insensitive); ``None`` if another scheme."""
    if not header:
        return None
    name, _, rest = header.strip().partition(b" ")
    if name.lower() != scheme.lower():
        return None
    return rest.strip()


def bearer(headers: Mapping[str, str]) -> bytes | None:
    """The token of ``Authorization: Bearer <token>``, as bytes."""
    return _scheme(raw_bytes(headers.get("Authorization")), b"Bearer")


_MALFORMED = b"\x00malformed"  # never equal to a secret compared by ``check`` (an env value has no NUL)


def basic_password(headers: Mapping[str, str]) -> bytes | None:
    """The password of ``Authorization: Basic base64(user:password)``, as bytes.

    Absent or another scheme ⇒ ``None``; bad base64 or no ``:`` ⇒ a value that matches nothing.
    """
    cred = _scheme(raw_bytes(headers.get("Authorization")), b"Basic")
    if cred is None:
        return None
    try:
        decoded = base64.b64decode(cred, validate=True)
    except (binascii.Error, ValueError):
        return _MALFORMED
    _user, sep, password = decoded.partition(b":")
    return password if sep else _MALFORMED


def require_query_or_basic(req: ChannelRequest, query: Mapping[str, bytes], name: str,
                           expected: str | None) -> None:
    """A shared secret as the ``name`` query parameter or, failing that, the HTTP basic password."""
    given = query.get(name)
    if given is None:
        given = basic_password(req.headers)
    check(given, expected, f"{name} (query or basic password)")


def hmac_hex(secret: str, body: bytes, algo: str = "sha256") -> str:
    """``<algo>=<hex HMAC of body>`` — the form Meta (and many others) put in a signature header."""
    return f"{algo}=" + hmac.new(secret.encode(), body, _DIGESTS[algo.encode()]).hexdigest()


def hub_handshake(req: ChannelRequest, verify_token: str | None) -> ParseOutcome:
    """Meta's subscription check (``GET``): echo ``hub.challenge`` when mode and verify token are right."""
    q = req.query
    token = raw_bytes(q.get("hub.verify_token", "")) or b""
    challenge = q.get("hub.challenge", "")
    if (verify_token is None or q.get("hub.mode") != "subscribe" or not challenge or len(challenge) > 200
            or not hmac.compare_digest(token, verify_token.encode())):
        raise Forbidden("verification failed")
    return ParseOutcome(response=web.Response(text=challenge, content_type="text/plain"))


def hmac_b64(secret: str, body: bytes) -> str:
    """``sha256=<base64 HMAC-SHA256 of body>`` — X's form."""
    return "sha256=" + base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def require_signature(req: ChannelRequest, header: str, secret: str | None, *,
                      encoding: str = "hex", algos: tuple[str, ...] = ("sha256",)) -> None:
    """An HMAC of the raw body keyed with ``secret``, sent as ``<algo>=<digest>`` in ``header``.

    ``encoding``: ``hex`` (case-insensitive) or ``base64``. Runs after the (bounded) body read.
    """
    if secret is None:
        raise Forbidden("channel disabled")
    given = raw_bytes(req.headers.get(header))
    if not given or not given.strip():
        raise Unauthorized(f"missing {header}")
    algo, _, digest = given.strip().partition(b"=")
    algo = algo.lower()
    if algo.decode("latin-1") not in algos or algo not in _DIGESTS or not digest:
        raise Forbidden(f"wrong {header}")
    mac = hmac.new(secret.encode("utf-8", "surrogateescape"), req.body, _DIGESTS[algo]).digest()
    if encoding == "hex":
        ok = hmac.compare_digest(mac.hex().encode(), digest.strip().lower())
    else:
        ok = hmac.compare_digest(base64.b64encode(mac), digest.strip())
    if not ok:
        raise Forbidden(f"wrong {header}")


def secret_of(settings: Any, field: str) -> str | None:
    """A configured secret by settings field name; ``None`` when unset or blank."""
    value = getattr(settings, field)
    if value is None:
        return None
    plain = value.get_secret_value() if hasattr(value, "get_secret_value") else value
    return str(plain) or None


# ---------------------------------------------------------------------------- endpoint authenticators
# Each is an ``Endpoint.authenticate`` value that also says what it checks, so tests can forge
# every malformed form of it for every endpoint. ``before_body``: the credential is in headers or
# the query string, checked before the body is read (and inflated).


@dataclass(frozen=True)
class SecretHeader:
    """A shared secret sent as-is in ``header`` (e.g. Telegram's secret-token header)."""

    header: str
    setting: str
    before_body = True

    def presented(self, req: ChannelRequest) -> bytes | None:
        return raw_bytes(req.headers.get(self.header))

    def __call__(self, req: ChannelRequest) -> None:
        check(self.presented(req), secret_of(req.settings, self.setting), self.header)


class Bearer(SecretHeader):
    """``Authorization: Bearer <token>``."""

    def __init__(self, setting: str) -> None:
        super().__init__("Authorization", setting)

    def presented(self, req: ChannelRequest) -> bytes | None:
        return bearer(req.headers)


@dataclass(frozen=True)
class QueryOrBasic:
    """The ``name`` query parameter (raw bytes) or the HTTP basic password."""

    name: str
    setting: str
    before_body = True

    def __call__(self, req: ChannelRequest) -> None:
        from urllib.parse import unquote_to_bytes

        given: bytes | None = None
        for pair in req.request.rel_url.raw_query_string.split("&"):
            key, sep, value = pair.partition("=")
            if sep and unquote_to_bytes(key.replace("+", " ")) == self.name.encode():
                given = unquote_to_bytes(value.replace("+", " "))
                break
        require_query_or_basic(req, {self.name: given} if given is not None else {}, self.name,
                               secret_of(req.settings, self.setting))


@dataclass(frozen=True)
class Signature:
    """An HMAC of the raw body in ``header``: checked after the bounded body read, before parsing."""

    header: str
    setting: str
    encoding: str = "hex"
    algos: tuple[str, ...] = ("sha256",)
    before_body = False

    def __call__(self, req: ChannelRequest) -> None:
        require_signature(req, self.header, secret_of(req.settings, self.setting), encoding=self.encoding,
                          algos=self.algos)


Authenticator = Bearer | SecretHeader | QueryOrBasic | Signature
