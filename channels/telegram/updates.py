"""Telegram ``Update`` → ``InboundMessage``: the one parser the webhook and long polling share.

Identity: an update's ``update_id`` is per *delivery*; the message itself is
(``chat.id``, ``message_id``), which is what the native id carries (``<chat>:<message>``), so a
redelivered update — or the same message seen by webhook and by polling — is one record.
An ``edited_message`` reuses that identity; it gets its own native id
``<chat>:<message>:edit:<edit_date>`` (each edit once) and the flag ``edited``, and the conversation
preprocessor links it to the record of the original message instead of opening a new complaint.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson

from normalizer.models import Attachment, AttachmentKind, Flag, GeoPoint, InboundMessage, ReplyTo, Sender
from normalizer.phone import parse_msisdn

if TYPE_CHECKING:
    from telegram import Message

PROVIDER = "telegram"
ALLOWED_UPDATES = ["message", "edited_message"]
_COMMAND = re.compile(r"^/([A-Za-z0-9_]{1,32})(?:@([A-Za-z0-9_]{3,64}))?(?:\s+|$)")
_MIME_KINDS: dict[str, AttachmentKind] = {"image": "image", "video": "video", "audio": "audio"}


class NotAnUpdate(ValueError):
    """The JSON is not a Telegram Update (no integer ``update_id``)."""


@dataclass
class Parsed:
    messages: list[InboundMessage] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)


def parse_update(data: Any, *, allow_groups: bool, raw: str | None = None) -> Parsed:
    """One update (as decoded JSON) → at most one message, or a skip reason."""
    if not isinstance(data, dict) or not isinstance(data.get("update_id"), int) or isinstance(
            data.get("update_id"), bool):
        raise NotAnUpdate("not a Telegram Update: an object with an integer update_id is expected")
    from telegram import Update  # the SDK (~23 MB) loads with the first update, not in every process

    update = Update.de_json(data, None)
    out = Parsed()
    msg = update.message or update.edited_message
    if msg is None:
        out.skipped["update_type"] += 1  # channel posts, callbacks, membership changes, …
        return out
    reason = _skip_reason(msg, allow_groups)
    if reason:
        out.skipped[reason] += 1
        return out
    message = to_message(update.update_id, msg, edited=update.edited_message is not None,
                         raw=raw if raw is not None else orjson.dumps(data).decode())
    if message is None:
        out.skipped["unsupported"] += 1
    else:
        out.messages.append(message)
    return out


def _skip_reason(msg: Message, allow_groups: bool) -> str | None:
    if msg.chat.type != "private" and not (allow_groups and msg.chat.type in ("group", "supergroup")):
        return "group" if msg.chat.type in ("group", "supergroup") else "chat_type"
    user = msg.from_user
    if user is None:
        return "no_sender"
    if user.is_bot:
        return "bot"
    return None


def to_message(update_id: int, msg: Message, *, edited: bool, raw: str) -> InboundMessage | None:
    """The message part of an update, or None for content that is no complaint (stickers, polls…)."""
    user = msg.from_user
    assert user is not None
    chat_id = msg.chat.id
    text = msg.text or msg.caption or ""
    meta: dict[str, Any] = {"update_id": update_id, "chat_id": chat_id, "chat_type": str(msg.chat.type),
                            "message_id": msg.message_id, "user_id": user.id}
    body: str | None = None
    m = _COMMAND.match(msg.text or "")
    if m:
        meta["command"] = m.group(1).lower()
        body = (msg.text or "")[m.end():].strip()  # "/lapor Jalan rusak" → the complaint is the rest
    attachments, files = _attachments(msg)
    if files:
        meta["files"] = files
    location = _location(msg)
    phone: str | None = None
    if msg.contact is not None:
        c = msg.contact
        own = c.user_id is not None and c.user_id == user.id
        meta["contact"] = {"own": own}
        if own:
            phone = _e164(c.phone_number)
        else:  # someone else's number (a witness, an official): keep it in the text, masked later
            name = " ".join(p for p in (c.first_name, c.last_name) if p)
            text = (text + "\n" if text else "") + f"Kontak: {name} {c.phone_number}".strip()
    if not (text or attachments or location or msg.contact is not None):
        return None
    if msg.media_group_id:
        meta["media_group_id"] = msg.media_group_id
    parent: str | None = None
    if msg.reply_to_message is not None:
        meta["reply_to_message_id"] = msg.reply_to_message.message_id
        parent = f"{chat_id}:{msg.reply_to_message.message_id}"  # the native id of the message answered
    native_id = f"{chat_id}:{msg.message_id}"
    sent_at = msg.date
    if edited:
        edit_at = msg.edit_date or msg.date
        native_id += f":edit:{int(edit_at.timestamp())}"
        sent_at = edit_at
    flags: list[Flag] = []
    if msg.forward_origin is not None:
        flags.append("forwarded")
    if edited:
        flags.append("edited")
    return InboundMessage(
        channel="telegram", provider=PROVIDER, kind="message", native_id=native_id,
        sender=Sender(kind="telegram", id=str(user.id), handle=user.username, display_name=user.full_name or None,
                      phone=phone),
        text=text, body=body, sent_at=sent_at, attachments=attachments, location=location,
        reply_to=ReplyTo(channel="telegram", address=str(chat_id), thread=str(msg.message_id),
                         private=msg.chat.type == "private"),
        flags=flags, parent_message_id=parent, meta=meta, raw=raw,
    )


def _e164(number: str) -> str:
    """Telegram gives international numbers without ``+`` (``6281234567890``)."""
    digits = number.strip()
    if digits and not digits.startswith("+"):
        digits = "+" + digits
    return parse_msisdn(digits, ton=1).e164 or number.strip()


def _attachments(msg: Message) -> tuple[list[Attachment], list[dict[str, Any]]]:
    """Attachments by ``file_id`` (in ``url``, as the contract asks for unfetched bytes)."""
    atts: list[Attachment] = []
    files: list[dict[str, Any]] = []

    def add(kind: AttachmentKind, f: Any, mime: str | None, filename: str | None = None) -> None:
        atts.append(Attachment(kind=kind, mime=mime, filename=filename, size=f.file_size, sha256=None,
                               url=f.file_id))
        files.append({"file_id": f.file_id, "file_unique_id": f.file_unique_id})

    if msg.photo:
        best = max(msg.photo, key=lambda p: (p.width * p.height, p.file_size or 0))
        add("image", best, "image/jpeg")
    if msg.animation is not None:  # a GIF also carries a ``document`` copy: take it once
        add("video", msg.animation, msg.animation.mime_type, msg.animation.file_name)
    elif msg.document is not None:
        d = msg.document
        major = (d.mime_type or "").split("/")[0]
        add(_MIME_KINDS.get(major, "document"), d, d.mime_type, d.file_name)
    if msg.video is not None:
        add("video", msg.video, msg.video.mime_type or "video/mp4", msg.video.file_name)
    if msg.video_note is not None:
        add("video", msg.video_note, "video/mp4")
    if msg.voice is not None:
        add("audio", msg.voice, msg.voice.mime_type or "audio/ogg")
    if msg.audio is not None:
        add("audio", msg.audio, msg.audio.mime_type, msg.audio.file_name)
    return atts, files


def _location(msg: Message) -> GeoPoint | None:
    if msg.venue is not None:
        v = msg.venue
        label = ", ".join(p for p in (v.title, v.address) if p) or None
        return GeoPoint(lat=v.location.latitude, lon=v.location.longitude, text=label)
    if msg.location is not None:
        return GeoPoint(lat=msg.location.latitude, lon=msg.location.longitude)
    return None
