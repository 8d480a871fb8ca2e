"""Shared-secret check for the SMS gateways (Kannel and Jasmin do not sign requests).

The secret (``LAPOR_SMS_TOKEN``) arrives as the ``token`` query parameter or as the HTTP basic
password; it is compared in constant time. Unset ⇒ the SMS endpoints refuse everyone (403).
"""

from __future__ import annotations

import base64
import binascii
import hmac
from urllib.parse import unquote_to_bytes

from channels.base import ChannelRequest, Forbidden, Unauthorized
from config.settings import Settings


def raw_params(raw: str | bytes) -> dict[str, bytes]:
    """A query string/form body → {name: raw bytes}; ``+`` is a space, ``%XX`` any byte.

    aiohttp's ``request.query`` decodes values to str (UTF-8), which destroys binary payloads.
    The first occurrence of a name wins.
    """
    if isinstance(raw, bytes):
        raw = raw.decode("latin-1")
    out: dict[str, bytes] = {}
    for pair in raw.split("&"):
        if not pair:
            continue
        name, _, value = pair.partition("=")
        key = unquote_to_bytes(name.replace("+", " ")).decode("utf-8", "replace")
        if key not in out:
            out[key] = unquote_to_bytes(value.replace("+", " "))
    return out


def without_token(raw: str) -> str:
    """The query string as received minus the ``token`` parameter (kept with the message)."""
    return "&".join(p for p in raw.split("&") if p and not p.startswith("token="))


def form_params(body: bytes) -> dict[str, bytes]:
    return raw_params(body)


def _basic_password(header: str | None) -> str | None:
    if not header or not header.startswith("Basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return decoded.partition(":")[2]


def require_token(req: ChannelRequest, query: dict[str, bytes]) -> None:
    expected = Settings.secret(req.settings.sms_token)
    if expected is None:
        raise Forbidden("channel disabled")
    given = query.get("token")
    candidate = given if given is not None else None
    if candidate is None:
        pw = _basic_password(req.headers.get("Authorization"))
        candidate = pw.encode() if pw is not None else None
    if candidate is None or not hmac.compare_digest(candidate, expected.encode()):
        raise Unauthorized("missing or wrong SMS token")
