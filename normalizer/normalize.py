"""``InboundMessage``(s) → ``ComplaintRecord``: pure, deterministic, no I/O.

This is the foundation's pass-through normalizer: it fills every contract field correctly
from what the adapter gave (text tidied, phone to E.164, title from the first sentence).
Understanding the complaint (classification, topics, region, language, PII masking) is
layered on top by the normalizer modules.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from normalizer.models import (
    ComplaintRecord,
    Conversation,
    GatewayInfo,
    InboundMessage,
    Location,
    RecordAttachment,
    RecordReplyTo,
    Reporter,
    SourceInfo,
    utc_iso,
)
from normalizer.phone import parse_msisdn
from normalizer.text import cut_at_word, first_sentence, tidy

NORMALIZER_VERSION = "0.1.0"
GATEWAY_VERSION = "0.1.0"

_TOPIC_TITLES = {None: "Laporan"}
_CHANNEL_NAMES = {
    "sms": "SMS 1708", "twitter": "X @LAPOR1708", "facebook": "Facebook", "instagram": "Instagram",
    "telegram": "Telegram", "email": "email", "api": "sistem instansi",
}


@dataclass
class NormalizeContext:
    """What the dispatcher knows beyond the messages (decided elsewhere, passed in)."""

    repeat_count: int = 0  # same text from the same sender in the recent window
    extra_flags: list[str] = field(default_factory=list)
    in_reply_to: str | None = None  # record id this message follows up


def normalize(messages: Sequence[InboundMessage], ctx: NormalizeContext | None = None) -> ComplaintRecord:
    """Merge the parts of one citizen message into one record."""
    if not messages:
        raise ValueError("normalize() needs at least one message")
    ctx = ctx or NormalizeContext()
    first = messages[0]
    if first.id is None or first.received_at is None:
        raise ValueError("message was not stamped by intake")
    original = "".join(m.text for m in messages)
    cleaned_source = "".join(m.body if m.body is not None else m.text for m in messages)
    body = tidy(cleaned_source)
    flags: list[Any] = []
    for flag in [*(f for m in messages for f in m.flags), *ctx.extra_flags]:
        if flag not in flags:
            flags.append(flag)
    attachments = [a for m in messages for a in m.attachments]
    if not body:
        flags.append("media_only" if attachments else "empty_text")
    title = _title(first, body)
    return ComplaintRecord(
        id=first.id,
        idempotency_key=first.idempotency_key,
        channel=first.channel,
        source=SourceInfo(
            provider=first.provider,
            kind=first.kind,
            message_ids=[m.native_id for m in messages],
            sent_at=utc_iso(first.sent_at),
            recipient=first.recipient,
        ),
        received_at=utc_iso(first.received_at) or "",
        reporter=_reporter(first),
        forwarded_by=first.forwarded_by,
        anonymous=any(m.anonymous for m in messages),
        confidential=any(m.confidential for m in messages),
        classification="complaint",
        title=title,
        body=body,
        public_body=body,
        original_text=original,
        language="und",
        topics=[],
        suggested_agency=None,
        location=_location(messages),
        attachments=[
            RecordAttachment(kind=a.kind, mime=a.mime, filename=a.filename, size=a.size, sha256=a.sha256,
                             url=a.url, ref=a.ref)
            for a in attachments if not a.inline
        ],
        conversation=_conversation(first, ctx),
        reply_to=RecordReplyTo(**first.reply_to.model_dump()) if first.reply_to else None,
        flags=list(dict.fromkeys(flags)),
        gateway=GatewayInfo(version=GATEWAY_VERSION, normalizer=NORMALIZER_VERSION),
    )


def _title(msg: InboundMessage, body: str) -> str:
    if msg.title and tidy(msg.title):
        return cut_at_word(tidy(msg.title), 100)
    if body:
        return cut_at_word(first_sentence(body), 100)
    return f"{_TOPIC_TITLES[None]} via {_CHANNEL_NAMES.get(msg.channel, msg.channel)}"


def _reporter(msg: InboundMessage) -> Reporter:
    s = msg.sender
    msisdn = operator = None
    identity = s.id
    if s.phone or s.kind == "msisdn":
        parsed = parse_msisdn(s.phone or s.id)
        msisdn, operator = parsed.e164, parsed.operator
        if s.kind == "msisdn" and msisdn:
            identity = msisdn
    email = s.email.strip().lower() if s.email else None
    if s.kind == "email":
        identity = identity.strip().lower()
    return Reporter(identity_kind=s.kind, identity=identity, handle=s.handle, display_name=s.display_name,
                    msisdn=msisdn, email=email, operator=operator)


def _location(messages: Sequence[InboundMessage]) -> Location | None:
    for m in messages:
        if m.location is not None:
            return Location(text=m.location.text, province_code=None, province=None, regency_code=None,
                            regency=None, district=None, lat=m.location.lat, lon=m.location.lon)
    return None


def _conversation(msg: InboundMessage, ctx: NormalizeContext) -> Conversation | None:
    conv = msg.conversation
    if conv is None and ctx.in_reply_to is None:
        return None
    return Conversation(thread_id=conv.thread_id if conv else None,
                        in_reply_to=ctx.in_reply_to or (conv.in_reply_to if conv else None))
