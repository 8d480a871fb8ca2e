"""Building stamped InboundMessages for normalizer tests."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from normalizer.models import InboundMessage, Sender

RECORD_ID = "01JD5Z8Q4G2X0000000000000A"


def msg(text: str = "", *, channel: str = "sms", n: int = 1, **kw: Any) -> InboundMessage:
    kinds = {"sms": ("kannel", "sms", Sender(kind="msisdn", id="081234567890")),
             "twitter": ("x-webhook", "mention", Sender(kind="twitter", id="1234", handle="warga")),
             "telegram": ("telegram", "message", Sender(kind="telegram", id="555")),
             "email": ("imap", "email", Sender(kind="email", id="Warga@Example.ID", email="Warga@Example.ID")),
             "api": ("http-api", "submission", Sender(kind="api", id="agency-x"))}
    provider, kind, sender = kinds[channel]
    m = InboundMessage(channel=channel, provider=provider, kind=kind, native_id=f"n{n}", sender=sender,
                       text=text, **kw)
    m.stamp(RECORD_ID, datetime(2026, 11, 23, 3, 0, tzinfo=UTC))
    return m
