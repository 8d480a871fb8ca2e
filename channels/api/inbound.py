"""``POST /channels/http/complaints`` — the simplest adapter and the template for the others.

Bearer ``LAPOR_HTTP_TOKEN``; the JSON format and the answers are a public contract
(docs/channels.md, "Agencies' systems"): 202 ``{"id", "status": "accepted"}``, 200
``{"id", "status": "duplicate"}`` for a repeated ``id``, 400 with field errors for anything invalid.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from channels.core.inbound import (
    BadRequest,
    ChannelRequest,
    Endpoint,
    ParseOutcome,
    UnsupportedMediaType,
    json_object,
    record_respond,
)
from channels.core.openapi import Accepted as ApiAccepted
from channels.core.openapi import Error as ApiError
from channels.core.openapi import Operation
from channels.core.verify import Bearer
from normalizer.models import Attachment, GeoPoint, InboundMessage, Sender

PATH = "/channels/http/complaints"
_MIME_KIND = {"image": "image", "video": "video", "audio": "audio"}


class ReporterIn(BaseModel):
    model_config = ConfigDict(extra="ignore")
    name: str | None = Field(None, max_length=200)
    phone: str | None = Field(None, max_length=40)
    email: str | None = Field(None, max_length=320)
    id: str | None = Field(None, max_length=200)


class LocationIn(BaseModel):
    model_config = ConfigDict(extra="ignore")
    lat: float | None = Field(None, ge=-90, le=90)
    lon: float | None = Field(None, ge=-180, le=180)
    text: str | None = Field(None, max_length=500)


class AttachmentIn(BaseModel):
    model_config = ConfigDict(extra="ignore")
    url: str = Field(min_length=1, max_length=4000)
    mime: str | None = Field(None, max_length=200)
    filename: str | None = Field(None, max_length=500)


class ComplaintIn(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: str = Field(min_length=1, max_length=200)
    text: str = Field(min_length=1, max_length=100_000)
    title: str | None = Field(None, max_length=500)
    reporter: ReporterIn
    anonymous: bool = False
    confidential: bool = False
    sent_at: datetime | None = None
    location: LocationIn | None = None
    attachments: list[AttachmentIn] = Field(default_factory=list, max_length=50)

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        v = v.strip()
        if not v or any(c.isspace() for c in v):
            raise ValueError("must be a non-empty id without whitespace")
        return v

    @field_validator("text")
    @classmethod
    def _text(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("must not be blank")
        return v

    @field_validator("sent_at")
    @classmethod
    def _aware(cls, v: datetime | None) -> datetime | None:
        if v is not None and v.tzinfo is None:
            raise ValueError("must carry a time zone offset")
        return v

    @model_validator(mode="after")
    def _identity(self) -> ComplaintIn:
        r = self.reporter
        if not any((r.phone and r.phone.strip(), r.email and r.email.strip(), r.id and r.id.strip())):
            raise ValueError("reporter needs at least one of phone, email, id")
        return self


def _field_errors(exc: ValidationError) -> list[dict[str, str]]:
    out = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "(body)"
        out.append({"field": loc, "message": err["msg"]})
    return out


def to_message(doc: ComplaintIn, raw: bytes) -> InboundMessage:
    r = doc.reporter
    sender: Sender
    if r.phone and r.phone.strip():
        sender = Sender(kind="msisdn", id=r.phone.strip(), phone=r.phone.strip(), email=r.email,
                        display_name=r.name, handle=r.id)
    elif r.email and r.email.strip():
        sender = Sender(kind="email", id=r.email.strip().lower(), email=r.email.strip(), display_name=r.name,
                        handle=r.id)
    else:
        sender = Sender(kind="api", id=(r.id or "").strip(), display_name=r.name)
    attachments = []
    for a in doc.attachments:
        major = (a.mime or "").split("/")[0]
        kind = _MIME_KIND.get(major, "document" if major in ("application", "text") else "other")
        attachments.append(Attachment(kind=kind, mime=a.mime, filename=a.filename, url=a.url))
    location = None
    if doc.location and (doc.location.lat is not None or doc.location.text):
        location = GeoPoint(lat=doc.location.lat, lon=doc.location.lon, text=doc.location.text)
    return InboundMessage(
        channel="api", provider="http-api", kind="submission", native_id=doc.id, sender=sender,
        text=doc.text, title=doc.title, sent_at=doc.sent_at, attachments=attachments, location=location,
        anonymous=doc.anonymous, confidential=doc.confidential, raw=raw.decode("utf-8", "replace"),
    )


async def parse(req: ChannelRequest) -> ParseOutcome:
    ctype = req.request.content_type
    if ctype not in ("application/json", "application/octet-stream", "") and not ctype.endswith("+json"):
        raise UnsupportedMediaType(f"expected application/json, got {ctype}")
    data = json_object(req.body)
    try:
        doc = ComplaintIn.model_validate(data)
    except ValidationError as exc:
        raise BadRequest("invalid complaint", details=_field_errors(exc)) from None
    return ParseOutcome(messages=[to_message(doc, req.body)], respond=record_respond)


def endpoints() -> list[Endpoint]:
    return [Endpoint(channel="api", path=PATH, methods=("POST",), parse=parse, authenticate=Bearer("http_token"))]


def openapi() -> list[Operation]:
    """``/openapi.json``: this endpoint's request and answers, from the model that validates it."""
    common = {400: ("invalid JSON or fields (details name them)", ApiError),
              401: ("no bearer token (LAPOR_HTTP_TOKEN)", ApiError),
              403: ("wrong bearer token, or the channel is disabled", ApiError),
              413: ("body over the limit", ApiError),
              415: ("not application/json", ApiError),
              503: ("storage unavailable, retry after the Retry-After seconds", ApiError)}
    return [
        Operation("post", PATH, "Submit one complaint from an agency's system", ComplaintIn,
                  {202: ("stored; the answer carries the record id", ApiAccepted),
                   200: ("this id was stored before; the first record's id", ApiAccepted), **common},
                  tags=("complaints",)),
    ]
