"""Account Activity API authenticity: the CRC answer and the payload signature (docs/channels.md, X).

Both are HMAC-SHA256 keyed with the app's consumer secret (API key secret), base64, ``sha256=``
prefix. The signature is computed over the raw body bytes exactly as received.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

# What X sends as ``crc_token``: a short random string in the base64 / base64url alphabet (observed
# 40-50 characters). The bound leaves room for X lengthening it without letting a caller choose text.
CRC_TOKEN_MAX = 128
# Why this closes the signing oracle: the CRC answer is HMAC(consumer secret, token), the very
# signature X puts on a POST body, so answering any token would sign any body. A token in this
# alphabet contains no ``{`` and no whitespace, so whatever we sign can never parse as the JSON
# object an Account Activity delivery must be (``json_object`` refuses it, and ``webhook.parse``
# refuses a signed body of this shape outright). Neither can it be a gzip stream (magic 0x1f 0x8b).
_CRC_TOKEN = re.compile(rf"[A-Za-z0-9+/_-]{{1,{CRC_TOKEN_MAX}}}={{0,2}}")


def crc_token_ok(token: str | bytes) -> bool:
    """True for a token shaped like X's (base64/base64url alphabet, bounded length)."""
    if isinstance(token, bytes):
        if len(token) > CRC_TOKEN_MAX + 2 or not token.isascii():
            return False
        token = token.decode("ascii")
    return len(token) <= CRC_TOKEN_MAX + 2 and _CRC_TOKEN.fullmatch(token) is not None


def _b64_hmac(secret: str, data: bytes) -> str:
    return "sha256=" + base64.b64encode(hmac.new(secret.encode(), data, hashlib.sha256).digest()).decode()


def crc_response(crc_token: str, consumer_secret: str) -> dict[str, str]:
    """The JSON body X expects for ``GET …?crc_token=…`` (callers check ``crc_token_ok`` first)."""
    return {"response_token": _b64_hmac(consumer_secret, crc_token.encode())}


def sign(body: bytes, consumer_secret: str) -> str:
    """The ``x-twitter-webhooks-signature`` value X sends for ``body`` (also used by tests/bench)."""
    return _b64_hmac(consumer_secret, body)


def signature_ok(header: str | None, body: bytes, consumer_secret: str) -> bool:
    """Constant-time comparison of the header against our own signature of the raw body."""
    if not header:
        return False
    return hmac.compare_digest(header.strip().encode(), sign(body, consumer_secret).encode())
