"""Shared-secret check for the SMS gateways (Kannel and Jasmin do not sign requests).

The secret (``LAPOR_SMS_TOKEN``) arrives as the ``token`` query parameter or as the HTTP basic
password (``channels.core.verify.QueryOrBasic``), checked before the body is read. Unset ⇒ the SMS
endpoints refuse everyone (403). This module reads query strings and forms byte-exactly.
"""

from __future__ import annotations

from urllib.parse import unquote_to_bytes


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
