"""WhatsApp Cloud API notifications → citizen messages and delivery reports (pure, no I/O).

A notification is ``{"object": "whatsapp_business_account", "entry": [{"id": <WABA id>,
"changes": [{"field": "messages", "value": {...}}]}]}``. One ``value`` carries ``messages``
(citizens writing to us), ``statuses`` (what became of the messages we sent) or ``errors``
(a problem with the whole change). Each citizen message becomes one ``InboundMessage``; each
status a ``DeliveryReport``; everything else is counted by reason, never silently dropped.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

from channels.core.inbound import DeliveryReport
from gateway.logging import get_logger
from normalizer.models import Attachment, AttachmentKind, GeoPoint, InboundMessage, ReplyTo, Sender

log = get_logger("channels.whatsapp")

CHANNEL = "whatsapp"
PROVIDER = "whatsapp-cloud"
OBJECT = "whatsapp_business_account"

MEDIA_KINDS: dict[str, AttachmentKind] = {
    "image": "image", "sticker": "image", "video": "video", "audio": "audio", "voice": "audio",
    "document": "document",
}
STATUSES = ("sent", "delivered", "read", "failed")

# Cloud API error codes of a failed status → the delivery-status contract's ``error.code``
STATUS_ERROR_CODES: dict[int, str] = {
    131047: "window_closed",  # re-engagement: more than 24 h since the citizen wrote
    131026: "undeliverable",  # not a WhatsApp user, old app, or has not accepted the terms
    131049: "undeliverable",  # held back by Meta to keep the ecosystem healthy
    131050: "undeliverable",  # the citizen stopped marketing messages
    131021: "undeliverable",  # recipient is the sender
    131030: "undeliverable",  # not on the test number's allowed list
    130429: "rate_limited", 131056: "rate_limited", 131048: "rate_limited", 80007: "rate_limited",
    4: "rate_limited", 133016: "rate_limited",
    131051: "rejected", 131052: "provider_error", 131053: "provider_error", 100: "rejected",
    132000: "rejected", 132001: "rejected", 132005: "rejected", 132007: "rejected", 132012: "rejected",
    190: "channel_disabled", 131031: "channel_disabled", 131042: "channel_disabled",
    368: "channel_disabled",
}


class InvalidMessage(ValueError):
    """A message object we cannot read (counted as ``invalid``)."""


@dataclass
class Parsed:
    messages: list[InboundMessage] = field(default_factory=list)
    statuses: list[DeliveryReport] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)


def iso(ts: Any) -> str | None:
    """A Unix-seconds timestamp (a string in these payloads) as ISO 8601 UTC; None when unreadable."""
    dt = when(ts)
    return dt.isoformat().replace("+00:00", "Z") if dt else None


def when(ts: Any) -> datetime | None:
    try:
        value = int(str(ts))
    except (TypeError, ValueError):
        return None
    if not 0 < value < 10_000_000_000:
        return None
    return datetime.fromtimestamp(value, UTC)


def numeric(wa_id: str | None) -> bool:
    """A wa_id that is a phone number (digits only); business-scoped user ids are not."""
    return wa_id is not None and wa_id.isdigit() and 7 <= len(wa_id) <= 15


def _dict(v: Any) -> dict[str, Any]:
    return v if isinstance(v, dict) else {}


def _list(v: Any) -> list[Any]:
    return v if isinstance(v, list) else []


def _str(v: Any) -> str | None:
    return v if isinstance(v, str) and v.strip() else None


def _contact_for(contacts: list[Any], wa_id: str | None, user_id: str | None) -> dict[str, Any]:
    """The ``contacts[]`` entry of this message's author (by wa_id, then user id; one contact: it)."""
    dicts = [c for c in contacts if isinstance(c, dict)]
    for c in dicts:
        if (wa_id and c.get("wa_id") == wa_id) or (user_id and c.get("user_id") == user_id):
            return c
    return dicts[0] if len(dicts) == 1 else {}


def sender_of(m: dict[str, Any], contacts: list[Any]) -> tuple[Sender, str]:
    """The author and the address to answer: the wa_id, or the business-scoped user id when the
    citizen shows no number (WhatsApp usernames)."""
    wa_id = _str(m.get("from"))
    user_id = _str(m.get("from_user_id"))
    contact = _contact_for(contacts, wa_id, user_id)
    user_id = user_id or _str(contact.get("user_id"))
    wa_id = wa_id or _str(contact.get("wa_id"))
    identity = wa_id or user_id
    if identity is None:
        raise InvalidMessage("message without from/from_user_id")
    profile = contact.get("profile")
    name = _str(profile.get("name")) if isinstance(profile, dict) else None
    username = _str(profile.get("username")) if isinstance(profile, dict) else None
    phone = f"+{wa_id}" if numeric(wa_id) else None
    return Sender(kind="whatsapp", id=identity, handle=username, display_name=name, phone=phone), identity


def _media(m: dict[str, Any], kind: str) -> tuple[str, list[Attachment], dict[str, Any]]:
    obj = m.get(kind)
    if not isinstance(obj, dict):
        raise InvalidMessage(f"{kind} message without its object")
    media_id = _str(obj.get("id"))
    if media_id is None:
        raise InvalidMessage(f"{kind} without a media id")
    att = Attachment(kind=MEDIA_KINDS[kind], mime=_str(obj.get("mime_type")), filename=_str(obj.get("filename")),
                     url=media_id)  # the media id until the dispatcher has fetched the bytes
    info: dict[str, Any] = {"id": media_id, "sha256": _str(obj.get("sha256"))}
    if kind == "voice" or obj.get("voice") is True:
        info["voice"] = True  # a voice note, not a shared audio file
    return str(obj.get("caption") or ""), [att], info


def _contacts_text(cards: Any) -> str:
    """Shared contact cards as text: ``name: phone, phone`` per card."""
    lines = []
    for c in cards if isinstance(cards, list) else []:
        if not isinstance(c, dict):
            continue
        name = _dict(c.get("name"))
        label = _str(name.get("formatted_name")) or _str(name.get("first_name")) or "kontak"
        phones = [str(p.get("phone") or p.get("wa_id")) for p in c.get("phones") or []
                  if isinstance(p, dict) and (p.get("phone") or p.get("wa_id"))]
        lines.append(f"{label}: {', '.join(phones)}" if phones else label)
    return "\n".join(lines)


def content(m: dict[str, Any]) -> tuple[str, list[Attachment], GeoPoint | None, dict[str, Any]] | str:
    """(text, attachments, location, meta) of one message, or the skip reason."""
    kind = m.get("type")
    meta: dict[str, Any] = {"type": kind}
    if kind == "text":
        text = m.get("text")
        if not isinstance(text, dict) or not isinstance(text.get("body"), str):
            raise InvalidMessage("text message without text.body")
        return text["body"], [], None, meta
    if isinstance(kind, str) and kind in MEDIA_KINDS:
        caption, atts, info = _media(m, kind)
        meta["media"] = [info]
        return caption, atts, None, meta
    if kind == "location":
        loc = m.get("location")
        if not isinstance(loc, dict):
            raise InvalidMessage("location message without location")
        try:
            lat, lon = float(loc["latitude"]), float(loc["longitude"])
        except (KeyError, TypeError, ValueError):
            raise InvalidMessage("location without latitude/longitude") from None
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise InvalidMessage("location out of range")
        place = ", ".join(p for p in (_str(loc.get("name")), _str(loc.get("address"))) if p)
        meta["shared_location"] = True
        return place, [], GeoPoint(lat=lat, lon=lon, text=place or None), meta
    if kind == "contacts":
        return _contacts_text(m.get("contacts")), [], None, meta
    if kind == "interactive":
        inter = _dict(m.get("interactive"))
        itype = inter.get("type")
        reply = inter.get(itype) if isinstance(itype, str) else None
        if itype in ("button_reply", "list_reply") and isinstance(reply, dict) and _str(reply.get("title")):
            meta["answer_id"] = _str(reply.get("id"))
            title = str(reply["title"])
            desc = _str(reply.get("description"))
            return f"{title}\n{desc}" if desc else title, [], None, meta
        if itype == "nfm_reply" and isinstance(reply, dict) and _str(reply.get("body")):
            return str(reply["body"]), [], None, meta
        return "unsupported"
    if kind == "button":
        btn = m.get("button")
        if isinstance(btn, dict) and _str(btn.get("text")):
            meta["answer_id"] = _str(btn.get("payload"))
            return str(btn["text"]), [], None, meta
        raise InvalidMessage("button message without text")
    if kind == "reaction":
        return "reaction"
    return "unsupported"  # unsupported, system, order, request_welcome, ephemeral, unknown types


def message_of(m: dict[str, Any], value: dict[str, Any], raw: str) -> InboundMessage | str:
    """One citizen message, or the reason it is skipped."""
    wamid = _str(m.get("id"))
    if wamid is None:
        raise InvalidMessage("message without id")
    if m.get("group_id") is not None or m.get("group") is not None:
        return "group"
    got = content(m)
    if isinstance(got, str):
        return got
    text, attachments, location, meta = got
    contacts = _list(value.get("contacts"))
    sender, address = sender_of(m, contacts)
    metadata = _dict(value.get("metadata"))
    ctx = _dict(m.get("context"))
    parent = _str(ctx.get("id"))
    meta["phone_number_id"] = _str(metadata.get("phone_number_id"))
    if ctx.get("forwarded") or ctx.get("frequently_forwarded"):
        meta["forwarded"] = True
    if not numeric(sender.id):
        meta["business_scoped"] = True
    return InboundMessage(
        channel=CHANNEL, provider=PROVIDER, kind="message", native_id=wamid, sender=sender,
        recipient=_str(metadata.get("display_phone_number")), text=text, sent_at=when(m.get("timestamp")),
        attachments=attachments, location=location, parent_message_id=parent,
        reply_to=ReplyTo(channel=CHANNEL, address=address, private=True), meta=meta, raw=raw,
    )


def status_of(st: dict[str, Any]) -> DeliveryReport | str:
    """A status of one of our messages, or the reason it is skipped (``deleted``, unknown)."""
    status = st.get("status")
    wamid = _str(st.get("id"))
    if wamid is None:
        raise InvalidMessage("status without id")
    if status not in STATUSES:
        return f"status_{status}" if status in ("deleted", "warning", "pending") else "status_unknown"
    code = detail = None
    if status == "failed":
        errors = _list(st.get("errors"))
        first = errors[0] if errors and isinstance(errors[0], dict) else {}
        raw_code = first.get("code")
        code = STATUS_ERROR_CODES.get(raw_code, "provider_error") if isinstance(raw_code, int) else "provider_error"
        detail = f"{raw_code} {first.get('title') or ''}".strip()[:500] if first else None
    return DeliveryReport(channel=CHANNEL, status=str(status), provider_id=wamid, at=iso(st.get("timestamp")),
                          error_code=code, error_detail=detail)


def _raw(entry: dict[str, Any], change: dict[str, Any], value: dict[str, Any], m: dict[str, Any]) -> str:
    """One message with its envelope (the whole delivery stays identified by ``body_sha256``)."""
    one = {k: v for k, v in value.items() if k not in ("messages", "statuses", "contacts")}
    own = _contact_for(_list(value.get("contacts")), _str(m.get("from")), _str(m.get("from_user_id")))
    if own:  # only the author's contact: a batch of n messages must not cost n² in raw copies
        one["contacts"] = [own]
    one["messages"] = [m]
    return orjson.dumps({"object": OBJECT, "entry": [{"id": entry.get("id"), "changes": [
        {"field": change.get("field"), "value": one}]}]}).decode()


def parse_notification(doc: dict[str, Any], body: bytes) -> Parsed:
    """Every message and status of a notification; one bad item is counted, the rest go on."""
    out = Parsed()
    if doc.get("object") != OBJECT:
        out.skipped["unsupported_object"] += 1
        return out
    body_sha = hashlib.sha256(body).hexdigest()
    for entry in _list(doc.get("entry")):
        changes = entry.get("changes") if isinstance(entry, dict) else None
        if not isinstance(changes, list):
            out.skipped["invalid"] += 1
            continue
        for change in changes:
            value = change.get("value") if isinstance(change, dict) else None
            if not isinstance(value, dict):
                out.skipped["invalid"] += 1
                continue
            if change.get("field") != "messages":  # template/account/quality updates: not ours to file
                out.skipped["unsupported_field"] += 1
                continue
            _change(entry, change, value, body_sha, out)
    return out


def _change(entry: dict[str, Any], change: dict[str, Any], value: dict[str, Any], body_sha: str,
            out: Parsed) -> None:
    errors = value.get("errors")
    if isinstance(errors, list) and errors:
        out.skipped["provider_error"] += len(errors)
        log.warning("whatsapp.change_errors", codes=[e.get("code") for e in errors if isinstance(e, dict)][:10])
    for key, items in (("messages", value.get("messages")), ("statuses", value.get("statuses"))):
        for item in _list(items):
            try:
                if not isinstance(item, dict):
                    raise InvalidMessage(f"{key} item is not an object")
                if key == "messages":
                    result: InboundMessage | DeliveryReport | str = message_of(
                        item, value, _raw(entry, change, value, item))
                else:
                    result = status_of(item)
            except (InvalidMessage, ValueError, TypeError) as exc:  # pydantic errors are ValueErrors
                out.skipped["invalid"] += 1
                log.warning("whatsapp.invalid_item", kind=key, error=type(exc).__name__,
                            reason=str(exc)[:120] if isinstance(exc, InvalidMessage) else None)
                continue
            if isinstance(result, str):
                out.skipped[result] += 1
            elif isinstance(result, DeliveryReport):
                out.statuses.append(result)
            else:
                result.meta["body_sha256"] = body_sha
                out.messages.append(result)
