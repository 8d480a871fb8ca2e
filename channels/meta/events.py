"""One Meta webhook event → one ``InboundMessage``, or the reason it is not a complaint.

Shapes and dedupe keys are described in docs/channels.md (Meta). Every function here is pure: the webhook
module splits the batch and calls them; nothing here knows about HTTP or Redis.

Edits and removals are not new complaints. They become messages too (so the raw event is kept
in the stream), with a native id of their own (``edit:<id>:<hash>``, ``remove:<id>``) and
``meta.revision`` = ``edit``/``remove``; the dispatcher's revision hook
(``channels.meta.hooks``) files them against the original and never sends them to the core.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from channels.meta import markers
from normalizer.models import (
    Attachment,
    AttachmentKind,
    Conversation,
    GeoPoint,
    InboundMessage,
    ReplyTo,
    Sender,
    SourceKind,
)

PROVIDER = "meta"
MetaChannel = Literal["facebook", "instagram"]

# messaging[] keys that are receipts or plumbing, not citizen text (skip reason = key)
_MESSAGING_SKIPS = {
    "read": "read", "delivery": "delivery", "reaction": "reaction", "optin": "optin",
    "referral": "referral", "account_linking": "other", "pass_thread_control": "other",
    "take_thread_control": "other", "request_thread_control": "other", "app_roles": "other",
    "policy_enforcement": "other", "game_play": "other", "standby": "other",
}
_FEED_POST_ITEMS = {"status", "post", "photo", "video", "share"}
_ATTACHMENT_KINDS: dict[str, AttachmentKind] = {
    "image": "image", "video": "video", "audio": "audio", "file": "document",
    "ig_reel": "video", "reel": "video", "story_mention": "image",
}


class InvalidEvent(ValueError):
    """The event lacks what every event of its kind must carry (an id, a sender)."""


@dataclass(frozen=True)
class EntryContext:
    """What the envelope tells about the events inside one ``entry``."""

    channel: MetaChannel
    account_id: str  # our Page id or IG professional account id (entry.id)
    time: datetime | None
    raw: str | None  # raw text kept with each message (the body, or the event re-serialised)


Result = InboundMessage | str  # a message, or the reason the event was skipped


def when(value: Any) -> datetime | None:
    """Meta times: unix seconds (feed), milliseconds (messaging), or ISO strings (some IG fields)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        seconds = value / 1000 if value > 1e11 else value
        try:
            return datetime.fromtimestamp(seconds, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if isinstance(value, str) and value:
        try:
            dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return when(int(value)) if value.isdigit() else None
        return dt if dt.tzinfo else dt.replace(tzinfo=UTC)
    return None


def _id(value: Any) -> str | None:
    if isinstance(value, str) and value.strip():
        return value.strip()
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def apply_markers(msg: InboundMessage, public: bool) -> InboundMessage:
    """``#rahasia``/``#anonim`` honoured; in a public comment the text is public already, so flag it."""
    found = markers.scan(msg.text)
    if found.body is None:
        return msg
    msg.body = found.body
    msg.confidential = msg.confidential or found.confidential
    msg.anonymous = msg.anonymous or found.anonymous
    if public and found.confidential and "public_confidential_request" not in msg.flags:
        msg.flags.append("public_confidential_request")  # asked where everyone can read it already
    return msg


# ---------------------------------------------------------------------------------- messaging
def _messaging_attachments(items: Any) -> tuple[list[Attachment], GeoPoint | None, dict[str, Any]]:
    out: list[Attachment] = []
    location: GeoPoint | None = None
    extra: dict[str, Any] = {}
    for a in items if isinstance(items, list) else []:
        a = _dict(a)
        kind = _text(a.get("type")) or "other"
        payload = _dict(a.get("payload"))
        if kind == "location":
            coords = _dict(payload.get("coordinates"))
            lat, lon = coords.get("lat"), coords.get("long", coords.get("lon"))
            if isinstance(lat, int | float) and isinstance(lon, int | float):
                location = GeoPoint(lat=float(lat), lon=float(lon), text=_text(a.get("title")) or None)
            continue
        url = _text(payload.get("url")) or _text(a.get("url")) or None
        if payload.get("sticker_id") is not None:
            extra["sticker_id"] = payload.get("sticker_id")
        out.append(Attachment(kind=_ATTACHMENT_KINDS.get(kind, "other"), url=url,
                              filename=_text(a.get("title")) or _text(payload.get("title")) or None))
        if kind not in _ATTACHMENT_KINDS:
            extra.setdefault("attachment_types", []).append(kind)
    return out, location, extra


def _only_stickers(items: Any) -> bool:
    return isinstance(items, list) and bool(items) and all(
        _dict(_dict(a).get("payload")).get("sticker_id") is not None for a in items)


def from_messaging(ctx: EntryContext, ev: dict[str, Any]) -> Result:
    """A Messenger or Instagram DM event (``entry.messaging[]``)."""
    sender_id = _id(_dict(ev.get("sender")).get("id"))
    sent_at = when(ev.get("timestamp")) or ctx.time
    message = ev.get("message")
    if isinstance(message, dict):
        if message.get("is_echo") or sender_id == ctx.account_id:
            return "echo"
        mid = _id(message.get("mid"))
        if mid is None or sender_id is None:
            raise InvalidEvent("message without mid or sender.id")
        if message.get("is_deleted"):
            return _revision(ctx, "remove", mid, sender_id, "", sent_at, kind="dm")
        if message.get("is_unsupported"):
            return "unsupported"
        if not _text(message.get("text")).strip() and _only_stickers(message.get("attachments")):
            return "sticker"  # the thumbs-up a citizen sends after our acknowledgement is not a complaint
        return _dm(ctx, sender_id, mid, message, sent_at)
    if sender_id is not None and sender_id == ctx.account_id:
        return "echo"
    edit = ev.get("message_edit")
    if isinstance(edit, dict):
        mid = _id(edit.get("mid"))
        if mid is None or sender_id is None:
            raise InvalidEvent("message_edit without mid or sender.id")
        n = edit.get("num_edit")
        return _revision(ctx, "edit", mid, sender_id, _text(edit.get("text")), sent_at, kind="dm",
                         version=str(n) if isinstance(n, int) else None)
    postback = ev.get("postback")
    if isinstance(postback, dict):
        title = _text(postback.get("title")).strip()
        if not title:
            return "postback"
        if sender_id is None:
            raise InvalidEvent("postback without sender.id")
        native = _id(postback.get("mid")) or f"postback:{sender_id}:{ev.get('timestamp')}"
        msg = _dm(ctx, sender_id, native, {"text": title}, sent_at)
        msg.meta["postback"] = _text(postback.get("payload")) or None
        return msg
    for key, reason in _MESSAGING_SKIPS.items():
        if key in ev:
            return reason
    return "other"


def _dm(ctx: EntryContext, sender_id: str, mid: str, message: dict[str, Any],
        sent_at: datetime | None) -> InboundMessage:
    attachments, location, extra = _messaging_attachments(message.get("attachments"))
    meta: dict[str, Any] = {"account_id": ctx.account_id, **extra}
    quick = _dict(message.get("quick_reply"))
    if quick.get("payload") is not None:
        meta["quick_reply"] = quick.get("payload")
    reply = _dict(message.get("reply_to"))
    in_reply_to = _id(reply.get("mid"))
    if reply.get("story"):
        meta["story_reply"] = _id(_dict(reply.get("story")).get("id"))
    msg = InboundMessage(
        channel=ctx.channel, provider=PROVIDER, kind="dm", native_id=mid,
        sender=Sender(kind=ctx.channel, id=sender_id), recipient=ctx.account_id,
        text=_text(message.get("text")), sent_at=sent_at, attachments=attachments, location=location,
        parent_message_id=in_reply_to,
        reply_to=ReplyTo(channel=ctx.channel, address=sender_id, private=True),
        meta=meta, raw=ctx.raw,
    )
    return apply_markers(msg, public=False)


# ---------------------------------------------------------------------------------- changes
def from_change(ctx: EntryContext, change: dict[str, Any]) -> Result:
    """A ``changes[]`` item: Page feed (``feed``), IG ``comments``/``live_comments``/``mentions``."""
    field = _text(change.get("field"))
    value = change.get("value")
    if not isinstance(value, dict):
        raise InvalidEvent(f"change {field!r} without a value object")
    if ctx.channel == "facebook" and field == "feed":
        return _feed(ctx, value)
    if ctx.channel == "instagram" and field in ("comments", "live_comments"):
        return _ig_comment(ctx, value, live=field == "live_comments")
    if ctx.channel == "instagram" and field == "mentions":
        return _ig_mention(ctx, value)
    return "other"


def _feed(ctx: EntryContext, v: dict[str, Any]) -> Result:
    item, verb = _text(v.get("item")), _text(v.get("verb"))
    if item in ("reaction", "like"):
        return "reaction"
    if item != "comment" and item not in _FEED_POST_ITEMS:
        return "other"
    frm = _dict(v.get("from"))
    from_id = _id(frm.get("id"))
    if from_id is not None and from_id == ctx.account_id:
        return "own"
    post_id = _id(v.get("post_id"))
    native = _id(v.get("comment_id")) if item == "comment" else post_id
    if native is None:
        raise InvalidEvent(f"feed {item} without its id")
    if verb in ("hide", "unhide"):
        return "hide"
    sent_at = when(v.get("created_time")) or ctx.time
    text = _text(v.get("message"))
    kind: SourceKind = "comment" if item == "comment" else "post"
    if verb in ("edited", "edit"):
        return _revision(ctx, "edit", native, from_id, text, sent_at, kind=kind)
    if verb == "remove":
        return _revision(ctx, "remove", native, from_id, "", sent_at, kind=kind)
    if verb != "add":
        return "other"
    attachments = _feed_attachments(v)
    parent = _id(v.get("parent_id"))
    conversation = None
    if item == "comment":
        conversation = Conversation(thread_id=post_id)
    # a private reply goes to the comment (thread = its post) or to the visitor post (no thread)
    reply_to = ReplyTo(channel="facebook", address=native, thread=post_id if item == "comment" else None,
                       private=False)
    msg = InboundMessage(
        channel="facebook", provider=PROVIDER, kind=kind, native_id=native,
        sender=_public_sender("facebook", from_id, native, name=_text(frm.get("name")) or None),
        recipient=ctx.account_id, text=text, sent_at=sent_at, attachments=attachments,
        conversation=conversation, reply_to=reply_to,
        parent_message_id=parent if item == "comment" and parent and parent != post_id else None,
        meta={"account_id": ctx.account_id, "item": item, **({"sender_unknown": True} if from_id is None else {})},
        raw=ctx.raw,
    )
    return apply_markers(msg, public=True)


def _feed_attachments(v: dict[str, Any]) -> list[Attachment]:
    out = []
    photos = v.get("photos")
    for url in [v.get("photo"), *(photos if isinstance(photos, list) else [])]:
        if isinstance(url, str) and url:
            out.append(Attachment(kind="image", url=url))
    if isinstance(v.get("video"), str) and v["video"]:
        out.append(Attachment(kind="video", url=v["video"]))
    if isinstance(v.get("link"), str) and v["link"] and not out:
        out.append(Attachment(kind="other", url=v["link"]))
    return out


def _public_sender(channel: MetaChannel, from_id: str | None, native: str, *, name: str | None = None,
                   handle: str | None = None) -> Sender:
    # Meta omits ``from`` when the app lacks the permission to see the author: keep the complaint,
    # with an identity that cannot collide with a real one
    return Sender(kind=channel, id=from_id or f"unknown:{native}", display_name=name, handle=handle)


def _ig_comment(ctx: EntryContext, v: dict[str, Any], *, live: bool) -> Result:
    cid = _id(v.get("id"))
    if cid is None:
        raise InvalidEvent("instagram comment without id")
    frm = _dict(v.get("from"))
    from_id = _id(frm.get("id"))
    if from_id is not None and from_id == ctx.account_id:
        return "own"
    media_id = _id(_dict(v.get("media")).get("id"))
    parent = _id(v.get("parent_id"))
    msg = InboundMessage(
        channel="instagram", provider=PROVIDER, kind="comment", native_id=cid,
        sender=_public_sender("instagram", from_id, cid, handle=_text(frm.get("username")) or None),
        recipient=ctx.account_id, text=_text(v.get("text")),
        sent_at=when(v.get("timestamp")) or when(v.get("created_time")) or ctx.time,
        conversation=Conversation(thread_id=media_id), parent_message_id=parent,
        reply_to=ReplyTo(channel="instagram", address=cid, thread=media_id, private=False),
        meta={"account_id": ctx.account_id, "live": live,
              "media_product_type": _text(_dict(v.get("media")).get("media_product_type")) or None},
        raw=ctx.raw,
    )
    return apply_markers(msg, public=True)


def _ig_mention(ctx: EntryContext, v: dict[str, Any]) -> Result:
    """We were @mentioned: the event has ids only; the text needs a Graph call (later, not here)."""
    media_id = _id(v.get("media_id"))
    if media_id is None:
        raise InvalidEvent("instagram mention without media_id")
    comment_id = _id(v.get("comment_id"))
    native = f"{media_id}:{comment_id}" if comment_id else media_id
    # a mention sits on someone else's media: no private reply is possible, so no reply_to
    return InboundMessage(
        channel="instagram", provider=PROVIDER, kind="mention", native_id=native,
        sender=Sender(kind="instagram", id=f"unknown:{native}"), recipient=ctx.account_id,
        sent_at=ctx.time, conversation=Conversation(thread_id=media_id, in_reply_to=None),
        meta={"account_id": ctx.account_id, "mention": {"media_id": media_id, "comment_id": comment_id},
              "sender_unknown": True, "needs_fetch": True},
        raw=ctx.raw,
    )


# ---------------------------------------------------------------------------------- revisions
def _revision(ctx: EntryContext, what: Literal["edit", "remove"], target: str, sender_id: str | None,
              text: str, sent_at: datetime | None, *, kind: SourceKind, version: str | None = None
              ) -> InboundMessage:
    """An edit (flag ``edited``) or removal of an earlier message, filed against ``target`` by the
    revision hook; never a new complaint."""
    suffix = version if version is not None else (_digest(text) if what == "edit" else None)
    native = f"{what}:{target}" + (f":{suffix}" if suffix else "")
    msg = InboundMessage(
        channel=ctx.channel, provider=PROVIDER, kind=kind, native_id=native,
        sender=_public_sender(ctx.channel, sender_id, target), recipient=ctx.account_id,
        text=text, sent_at=sent_at, flags=["edited"] if what == "edit" else [],
        meta={"account_id": ctx.account_id, "revision": what, "target": target},
        raw=ctx.raw,
    )
    return apply_markers(msg, public=kind != "dm") if what == "edit" else msg
