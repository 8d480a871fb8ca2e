"""What the dispatcher hands a sender and what a sender answers: the outbound contract.

Channels and the dispatcher both import this module (and nothing of each other): a sender turns
one ``OutboundMessage`` into one provider call and returns a ``SendResult`` carrying the
provider's message ids (the key delivery reports come back with), or raises a typed error that
tells the outbound worker whether to retry (``TransientSendError``) or give up
(``PermanentSendError``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol, runtime_checkable

import orjson

# Error codes of a failed delivery, as the core sees them (``lapor.delivery/1`` ``error.code``).
DeliveryErrorCode = Literal["no_route", "no_private_route", "window_closed", "expired", "rejected",
                            "undeliverable", "channel_disabled", "rate_limited", "provider_error"]

# Why a send will never succeed: finer than the delivery code, for logs and dead letters.
PermanentReason = Literal["window_closed", "no_private_route", "blocked", "invalid_recipient",
                          "not_configured", "rejected", "expired"]

_DELIVERY_CODE: dict[str, DeliveryErrorCode] = {
    "window_closed": "window_closed", "no_private_route": "no_private_route", "blocked": "undeliverable",
    "invalid_recipient": "undeliverable", "not_configured": "channel_disabled", "rejected": "rejected",
    "expired": "expired",
}


@dataclass
class OutboundMessage:
    """One message to a citizen: an acknowledgement of a record, or a reply such as help text."""

    channel: str  # reply_to.channel: sms, twitter, facebook, instagram, telegram, email
    address: str
    text: str
    kind: str = "ack"  # ack | reply
    record_id: str | None = None
    reference: str | None = None
    provider: str | None = None
    thread: str | None = None
    private: bool = True
    anonymous: bool = False
    confidential: bool = False
    meta: dict[str, Any] = field(default_factory=dict)
    attempts: int = 0

    def sent_at(self) -> datetime | None:
        """When the citizen wrote the message this one answers: the source's ``sent_at`` (meta),
        None when absent or unparsable (windowed channels decide what that means)."""
        sent = self.meta.get("sent_at") if self.meta else None
        if isinstance(sent, str) and sent:
            try:
                return datetime.fromisoformat(sent.replace("Z", "+00:00"))
            except ValueError:
                return None
        return None

    def dumps(self) -> bytes:
        return orjson.dumps(self.__dict__)

    @classmethod
    def loads(cls, raw: bytes | str) -> OutboundMessage:
        return cls(**orjson.loads(raw))


@dataclass(frozen=True)
class SendResult:
    """What the provider accepted: its message ids (one per SMS part, per chunk…) and how many parts.

    ``provider_message_ids`` match later delivery reports (Kannel/Jasmin DLRs, SMPP receipts,
    Meta delivery webhooks) to the message. ``skipped`` says why nothing was sent on purpose
    (e.g. an automatic email is never answered).
    """

    provider_message_ids: tuple[str, ...] = ()
    parts: int | None = None
    truncated: bool = False
    public_notice: bool = False
    skipped: str | None = None


class SendError(Exception):
    """A send that did not happen; ``reason`` is for logs and dead letters (no personal data)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason

    @property
    def delivery_code(self) -> DeliveryErrorCode:
        return "provider_error"


class TransientSendError(SendError):
    """Try again later (network, 5xx, rate limit). ``retry_after`` (seconds) overrides the backoff."""

    def __init__(self, reason: str, retry_after: float | None = None, *, rate_limited: bool = False) -> None:
        super().__init__(reason)
        self.retry_after = retry_after
        self.rate_limited = rate_limited

    @property
    def delivery_code(self) -> DeliveryErrorCode:
        return "rate_limited" if self.rate_limited else "provider_error"


class PermanentSendError(SendError):
    """Will never succeed (window closed, blocked, invalid recipient, credentials missing)."""

    def __init__(self, reason: str, code: PermanentReason = "rejected") -> None:
        super().__init__(reason)
        self.code: PermanentReason = code

    @property
    def delivery_code(self) -> DeliveryErrorCode:
        return _DELIVERY_CODE.get(self.code, "rejected")


class CallRecorder(Protocol):
    """Where a sender reports each provider call (the gateway's channel log fits it)."""

    def record(self, channel: str, *, status: int | str, latency_ms: float, method: str = "",
               path: str = "", error: str | None = None, **counts: Any) -> None: ...


class NullRecorder:
    """The recorder of a sender nobody attached a log to (tests, one-off tools)."""

    def record(self, channel: str, *, status: int | str, latency_ms: float, method: str = "",
               path: str = "", error: str | None = None, **counts: Any) -> None:
        return None


class Sender(Protocol):
    """Delivers one message. ``None`` from a plain function counts as an empty ``SendResult``."""

    async def __call__(self, msg: OutboundMessage) -> SendResult | None: ...


@runtime_checkable
class ManagedSender(Protocol):
    """A sender with resources: the outbound worker attaches its call log and closes it on stop."""

    async def __call__(self, msg: OutboundMessage) -> SendResult | None: ...

    def attach(self, calls: CallRecorder) -> None: ...

    async def close(self) -> None: ...


# A ``DeliveryReport.provider_id`` that names a recipient, not a message: "every message we
# sent to this recipient up to ``at``" (Messenger/Instagram delivery and read watermarks).
WATERMARK_PREFIX = "watermark:"


def watermark_id(recipient: str) -> str:
    return f"{WATERMARK_PREFIX}{recipient}"
