"""The two shapes that cross the pipeline: what an adapter produces and what the core receives.

``InboundMessage`` is channel-shaped but channel-neutral: every adapter fills the same fields,
so intake, the dispatcher and the normalizer never look at provider payloads. The raw payload
rides along for audit and re-normalization. ``ComplaintRecord`` mirrors
``schema/complaint-record.v1.schema.json`` (the contract) field for field.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Channel = Literal["sms", "twitter", "facebook", "instagram", "telegram", "email", "api", "whatsapp"]
IdentityKind = Literal["msisdn", "twitter", "facebook", "instagram", "telegram", "email", "api", "whatsapp"]
SourceKind = Literal["sms", "mention", "reply", "dm", "post", "comment", "message", "email", "submission"]
Flag = Literal[
    "multipart_incomplete", "possible_spam", "auto_reply", "empty_text", "truncated",
    "decode_error", "forwarded", "follow_up", "media_only", "incomplete", "sender_unparsable", "edited",
    "public_confidential_request",
]
AttachmentKind = Literal["image", "video", "audio", "document", "other"]
Classification = Literal["complaint", "aspiration", "information_request"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False)


class Sender(_Model):
    """Who wrote the message, as the channel knows them (normalized later)."""

    kind: IdentityKind
    id: str = Field(min_length=1, description="stable id on the channel; raw phone number for SMS")
    handle: str | None = None
    display_name: str | None = None
    phone: str | None = None
    email: str | None = None


class Attachment(_Model):
    kind: AttachmentKind = "other"
    mime: str | None = None
    filename: str | None = None
    size: int | None = Field(None, ge=0)
    sha256: str | None = Field(None, pattern=r"^[0-9a-f]{64}$")
    url: str | None = None
    ref: str | None = None
    inline: bool = False  # a logo/signature image in a mail body, not evidence


class GeoPoint(_Model):
    lat: float | None = None
    lon: float | None = None
    text: str | None = None


class Conversation(_Model):
    """``in_reply_to`` is a gateway record id (set by a preprocessor that linked this message to an
    earlier record), never a provider's message id: that is ``InboundMessage.parent_message_id``."""

    thread_id: str | None = None
    in_reply_to: str | None = None


class ReplyTo(_Model):
    channel: str
    address: str
    thread: str | None = None
    private: bool = True


class ForwardedBy(_Model):
    identity: str
    organization: str | None = None


class Part(_Model):
    """One part of a concatenated SMS (UDH or SAR)."""

    ref: int
    total: int = Field(ge=1)
    seq: int = Field(ge=1)


class InboundMessage(_Model):
    """One citizen message as an adapter parsed it. Assigned ``id``/``received_at`` at intake."""

    channel: Channel
    provider: str
    kind: SourceKind
    native_id: str = Field(min_length=1)
    sender: Sender
    recipient: str | None = None
    text: str = ""
    body: str | None = Field(None, description="adapter-cleaned text (channel noise removed); None = text")
    title: str | None = None
    sent_at: datetime | None = None
    attachments: list[Attachment] = Field(default_factory=list)
    location: GeoPoint | None = None
    conversation: Conversation | None = None
    parent_message_id: str | None = None  # the provider's id of the message this one replies to
    reply_to: ReplyTo | None = None
    forwarded_by: ForwardedBy | None = None
    anonymous: bool = False
    confidential: bool = False
    flags: list[Flag] = Field(default_factory=list)
    part: Part | None = None
    meta: dict[str, Any] = Field(default_factory=dict)
    raw: str | None = None
    # set by intake
    id: str | None = None
    received_at: datetime | None = None

    @property
    def idempotency_key(self) -> str:
        return f"{self.channel}:{self.native_id}"

    def stamp(self, record_id: str, received_at: datetime | None = None) -> None:
        self.id = record_id
        self.received_at = received_at or datetime.now(UTC)


class SourceInfo(_Model):
    provider: str
    kind: SourceKind
    message_ids: list[str] = Field(min_length=1)
    sent_at: str | None
    recipient: str | None = None
    parent_message_id: str | None = None


class Reporter(_Model):
    identity_kind: IdentityKind
    identity: str = Field(min_length=1)
    handle: str | None
    display_name: str | None
    msisdn: str | None = Field(pattern=r"^\+[1-9][0-9]{6,14}$")
    email: str | None
    operator: str | None = None


class Location(_Model):
    text: str | None
    province_code: str | None
    province: str | None
    regency_code: str | None
    regency: str | None
    district: str | None = None
    district_code: str | None = None
    lat: float | None = None
    lon: float | None = None


class RecordAttachment(_Model):
    kind: AttachmentKind
    mime: str | None
    filename: str | None
    size: int | None = Field(ge=0)
    sha256: str | None = Field(pattern=r"^[0-9a-f]{64}$")
    url: str | None
    ref: str | None


class RecordReplyTo(_Model):
    channel: str
    address: str
    thread: str | None = None
    private: bool


Slot = Literal["location", "subject", "time", "evidence"]


class Completeness(_Model):
    """What an actionable complaint still lacks, and whether the citizen was asked about it."""

    missing: list[Slot]
    asked: list[Slot] = Field(default_factory=list)
    answered: bool | None = None


class GatewayInfo(_Model):
    version: str
    normalizer: str


class ComplaintRecord(_Model):
    """The canonical record (contract ``lapor.complaint/1``)."""

    schema_: Literal["lapor.complaint/1"] = Field("lapor.complaint/1", alias="schema")
    id: str = Field(pattern=r"^[0-9A-HJKMNP-TV-Z]{26}$")
    idempotency_key: str = Field(min_length=3)
    channel: Channel
    source: SourceInfo
    received_at: str
    reporter: Reporter
    forwarded_by: ForwardedBy | None = None
    anonymous: bool
    confidential: bool
    classification: Classification
    title: str = Field(min_length=1, max_length=150)
    body: str
    public_body: str
    original_text: str
    language: str
    topics: list[str]
    suggested_agency: str | None = None
    location: Location | None
    attachments: list[RecordAttachment]
    conversation: Conversation | None
    reply_to: RecordReplyTo | None
    flags: list[Flag]
    gateway: GatewayInfo
    completeness: Completeness | None = None

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    def to_json_dict(self) -> dict[str, Any]:
        """The record as the core receives it (contract field names)."""
        return self.model_dump(mode="json", by_alias=True)


RECORD_ID = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")  # a ULID: the form of every gateway record id


def is_record_id(value: str | None) -> bool:
    return bool(value) and RECORD_ID.match(value or "") is not None


def utc_iso(dt: datetime | None) -> str | None:
    """RFC 3339 UTC with a ``Z`` (what the contract's date-time fields carry)."""
    if dt is None:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
