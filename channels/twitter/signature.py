"""Account Activity API authenticity: the CRC answer and the payload signature (channels.md §2.2).

Both are HMAC-SHA256 keyed with the app's consumer secret (API key secret), base64, ``sha256=``
prefix. The signature is computed over the raw body bytes exactly as received.
"""

from __future__ import annotations

import base64
import hashlib
import hmac


def _b64_hmac(secret: str, data: bytes) -> str:
    return "sha256=" + base64.b64encode(hmac.new(secret.encode(), data, hashlib.sha256).digest()).decode()


def crc_response(crc_token: str, consumer_secret: str) -> dict[str, str]:
    """The JSON body X expects for ``GET …?crc_token=…``."""
    return {"response_token": _b64_hmac(consumer_secret, crc_token.encode())}


def sign(body: bytes, consumer_secret: str) -> str:
    """The ``x-twitter-webhooks-signature`` value X sends for ``body`` (also used by tests/bench)."""
    return _b64_hmac(consumer_secret, body)


def signature_ok(header: str | None, body: bytes, consumer_secret: str) -> bool:
    """Constant-time comparison of the header against our own signature of the raw body."""
    if not header:
        return False
    return hmac.compare_digest(header.strip().encode(), sign(body, consumer_secret).encode())
