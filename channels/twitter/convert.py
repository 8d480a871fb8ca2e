"""Tweets and DMs → ``InboundMessage``: one converter for the webhook and the poller.

The Account Activity webhook delivers v1.1-format tweets, the mentions timeline v2-format ones.
Both are first reduced to a ``TweetView`` (the facts we use, format-neutral) and a single
function builds the message from it, so the same tweet gives the same message whichever path
saw it first — same native id (the tweet id), so intake's dedupe makes running both safe.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from normalizer.models import Attachment, AttachmentKind, Conversation, GeoPoint, InboundMessage, ReplyTo, Sender

CHANNEL: Literal["twitter"] = "twitter"
PROVIDER_WEBHOOK = "x-webhook"
PROVIDER_POLL = "x-poll"

ANONYMOUS_TAGS = frozenset({"anonim"})
CONFIDENTIAL_TAGS = frozenset({"rahasia"})

# the leading run of @mentions that replies carry ("@LAPOR1708 @warga isi laporan")
# possessive: the engine keeps no backtracking state per mention (a long run of mentions was super-linear)
_LEADING_MENTIONS = re.compile(r"^(?:\s*+@\w{1,50}+)++\s*+")
_SPACES = re.compile(r"[ \t]{2,}")


class InvalidEvent(ValueError):
    """An event that lacks what a message needs (no id, no author): counted and skipped."""


@dataclass
class MediaView:
    type: str  # photo | video | animated_gif
    url: str | None
    mime: str | None = None
    alt_text: str | None = None
    key: str | None = None


@dataclass
class TweetView:
    """The facts of one tweet, whichever API format it came in."""

    id: str
    author_id: str
    username: str | None
    name: str | None
    text: str
    created_at: datetime | None
    conversation_id: str | None = None
    in_reply_to_tweet_id: str | None = None
    in_reply_to_user_id: str | None = None
    quoted_tweet_id: str | None = None
    retweet: bool = False
    truncated: bool = False
    lang: str | None = None
    hashtags: list[str] = field(default_factory=list)
    mention_ids: list[str] = field(default_factory=list)
    mention_names: list[str] = field(default_factory=list)
    urls: list[tuple[str, str]] = field(default_factory=list)  # (t.co, expanded)
    media_links: list[str] = field(default_factory=list)  # t.co links that stand for attached media
    media: list[MediaView] = field(default_factory=list)
    place: str | None = None
    lat: float | None = None
    lon: float | None = None

    def mentions(self, user_id: str | None, handle: str | None) -> bool:
        if user_id and user_id in self.mention_ids:
            return True
        return bool(handle) and (handle or "").lower() in (n.lower() for n in self.mention_names)


# ---------------------------------------------------------------------------- parsing helpers
# Payloads are untrusted JSON: every access goes through these, so a field of the wrong type
# degrades to "absent" instead of failing the whole batch.
def _d(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _s(value: Any) -> str | None:
    """An id-like scalar as a string (ids arrive as strings or numbers)."""
    if isinstance(value, bool) or not isinstance(value, str | int) or value == "":
        return None
    return str(value)


def _t(value: Any) -> str | None:
    """A text field: a non-empty string or nothing."""
    return value if isinstance(value, str) and value else None


def _first(*values: Any) -> str | None:
    return next((t for t in map(_t, values) if t is not None), None)


def parse_v1_time(value: Any) -> datetime | None:
    """``Mon May 13 03:04:05 +0000 2024`` (v1.1 ``created_at``)."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.strptime(value, "%a %b %d %H:%M:%S %z %Y")
    except ValueError:
        return None


def parse_v2_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=UTC)


def parse_ms_time(value: Any) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(value) / 1000, tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def _point(geo: Any) -> tuple[float | None, float | None]:
    """GeoJSON ``{"type": "Point", "coordinates": [lon, lat]}`` → (lat, lon)."""
    coords = _d(geo).get("coordinates")
    if isinstance(coords, list) and len(coords) == 2 and all(
            isinstance(c, int | float) and not isinstance(c, bool) for c in coords):
        lon, lat = float(coords[0]), float(coords[1])
        if -90 <= lat <= 90 and -180 <= lon <= 180:
            return lat, lon
    return None, None


def _best_variant(variants: Any) -> tuple[str | None, str | None]:
    """The highest-bitrate MP4 of a video (what a reviewer wants to watch)."""
    best: tuple[int, str | None, str | None] = (-2, None, None)
    for v in _dicts(variants):
        url = _t(v.get("url"))
        if url is None:
            continue
        ctype = _t(v.get("content_type"))
        rate = v.get("bitrate", v.get("bit_rate"))
        rate = rate if isinstance(rate, int) and not isinstance(rate, bool) else 0
        score = rate if ctype == "video/mp4" else -1
        if score > best[0]:
            best = (score, url, ctype)
    return best[1], best[2]


def _tags(entities: dict[str, Any]) -> list[str]:
    return [t for t in (_first(h.get("tag"), h.get("text")) for h in _dicts(entities.get("hashtags"))) if t]


def _v1_media(m: dict[str, Any]) -> MediaView:
    mtype = _t(m.get("type")) or "photo"
    url, mime = _first(m.get("media_url_https"), m.get("media_url")), None
    if mtype in ("video", "animated_gif"):
        vurl, vmime = _best_variant(_d(m.get("video_info")).get("variants"))
        url, mime = vurl or url, vmime
    return MediaView(type=mtype, url=url, mime=mime, alt_text=_t(m.get("ext_alt_text")), key=_s(m.get("id_str")))


def _v1_urls(entities: dict[str, Any]) -> list[tuple[str, str]]:
    out = []
    for u in _dicts(entities.get("urls")):
        short = _t(u.get("url"))
        if short:
            out.append((short, _t(u.get("expanded_url")) or short))
    return out


# ---------------------------------------------------------------------------- v1.1 (webhook)
def view_from_v1(t: dict[str, Any]) -> TweetView:
    """An Account Activity ``tweet_create_events`` item (v1.1 Tweet object)."""
    tid = _s(t.get("id_str")) or _s(t.get("id"))
    user = _d(t.get("user"))
    author = _s(user.get("id_str")) or _s(user.get("id"))
    if not tid or not author:
        raise InvalidEvent("tweet without id or author")
    ext = _d(t.get("extended_tweet"))
    full = _t(ext.get("full_text"))
    text = full or _first(t.get("full_text"), t.get("text")) or ""
    entities = _d(ext.get("entities")) or _d(t.get("entities"))
    ext_entities = _d(ext.get("extended_entities")) or _d(t.get("extended_entities"))
    media_items = _dicts(ext_entities.get("media")) or _dicts(entities.get("media"))
    media = [_v1_media(m) for m in media_items]
    media_links = [link for link in (_t(m.get("url")) for m in media_items) if link]
    lat, lon = _point(t.get("coordinates"))
    mentions = _dicts(entities.get("user_mentions"))
    return TweetView(
        id=tid, author_id=author, username=_s(user.get("screen_name")), name=_t(user.get("name")),
        text=text, created_at=parse_v1_time(t.get("created_at")),
        conversation_id=_s(t.get("conversation_id_str")),
        in_reply_to_tweet_id=_s(t.get("in_reply_to_status_id_str")) or _s(t.get("in_reply_to_status_id")),
        in_reply_to_user_id=_s(t.get("in_reply_to_user_id_str")) or _s(t.get("in_reply_to_user_id")),
        quoted_tweet_id=_s(t.get("quoted_status_id_str")),
        retweet="retweeted_status" in t,
        truncated=t.get("truncated") is True and full is None,
        lang=_s(t.get("lang")),
        hashtags=_tags(entities),
        mention_ids=[i for i in (_s(m.get("id_str")) or _s(m.get("id")) for m in mentions) if i],
        mention_names=[n for n in (_s(m.get("screen_name")) for m in mentions) if n],
        urls=_v1_urls(entities), media_links=media_links, media=media,
        place=_t(_d(t.get("place")).get("full_name")), lat=lat, lon=lon,
    )


# ---------------------------------------------------------------------------- v2 (poller)
def view_from_v2(t: dict[str, Any], includes: dict[str, Any] | None = None) -> TweetView:
    """One ``data`` item of a v2 response, with the response's ``includes``."""
    includes = _d(includes)
    tid, author = _s(t.get("id")), _s(t.get("author_id"))
    if not tid or not author:
        raise InvalidEvent("tweet without id or author_id")
    users = {_s(u.get("id")): u for u in _dicts(includes.get("users"))}
    media_by_key = {_s(m.get("media_key")): m for m in _dicts(includes.get("media"))}
    places = {_s(p.get("id")): p for p in _dicts(includes.get("places"))}
    note = _d(t.get("note_tweet"))
    text = _first(note.get("text"), t.get("text")) or ""
    entities = _d(note.get("entities")) or _d(t.get("entities"))
    refs = _dicts(t.get("referenced_tweets"))

    def ref(kind: str) -> str | None:
        return next((_s(r.get("id")) for r in refs if r.get("type") == kind), None)

    media: list[MediaView] = []
    keys = _d(t.get("attachments")).get("media_keys")
    for key in (k for k in (_s(k) for k in (keys if isinstance(keys, list) else [])) if k):
        m = media_by_key.get(key)
        if not m:
            media.append(MediaView(type="photo", url=None, key=key))
            continue
        mtype = _t(m.get("type")) or "photo"
        url, mime = _t(m.get("url")), None
        if mtype in ("video", "animated_gif"):
            vurl, vmime = _best_variant(m.get("variants"))
            url, mime = vurl or _t(m.get("preview_image_url")), vmime
        media.append(MediaView(type=mtype, url=url, mime=mime, alt_text=_t(m.get("alt_text")), key=key))
    urls, media_links = [], []
    for u in _dicts(entities.get("urls")):
        short = _t(u.get("url"))
        if not short:
            continue
        if u.get("media_key"):
            media_links.append(short)
        else:
            urls.append((short, _first(u.get("unwound_url"), u.get("expanded_url")) or short))
    geo = _d(t.get("geo"))
    lat, lon = _point(geo.get("coordinates"))
    place = places.get(_s(geo.get("place_id"))) if _s(geo.get("place_id")) else None
    user = users.get(author, {})
    mentions = _dicts(entities.get("mentions"))
    return TweetView(
        id=tid, author_id=author, username=_s(user.get("username")), name=_t(user.get("name")),
        text=text, created_at=parse_v2_time(t.get("created_at")),
        conversation_id=_s(t.get("conversation_id")),
        in_reply_to_tweet_id=ref("replied_to"), in_reply_to_user_id=_s(t.get("in_reply_to_user_id")),
        quoted_tweet_id=ref("quoted"), retweet=ref("retweeted") is not None, lang=_s(t.get("lang")),
        hashtags=_tags(entities),
        mention_ids=[i for i in (_s(m.get("id")) for m in mentions) if i],
        mention_names=[n for n in (_s(m.get("username")) for m in mentions) if n],
        urls=urls, media_links=media_links, media=media,
        place=_t(place.get("full_name")) if place else None, lat=lat, lon=lon,
    )


# ---------------------------------------------------------------------------- the message
def clean_body(text: str, urls: list[tuple[str, str]], media_links: list[str], *,
               strip_mentions: bool = True) -> str:
    """Leading @mentions removed, t.co links expanded, media links dropped (they are attachments)."""
    body = text
    for link in media_links:
        body = body.replace(link, "")
    for short, expanded in urls:
        body = body.replace(short, expanded)
    if strip_mentions:
        body = _LEADING_MENTIONS.sub("", body, count=1)
    return _SPACES.sub(" ", html.unescape(body)).strip()


def _attachments(media: list[MediaView]) -> list[Attachment]:
    out = []
    for m in media:
        kind: AttachmentKind = ("image" if m.type == "photo" else
                                "video" if m.type in ("video", "animated_gif") else "other")
        out.append(Attachment(kind=kind, mime=m.mime, url=m.url, size=None, sha256=None, ref=None if m.url else m.key))
    return out


def _marks(tags: list[str]) -> tuple[bool, bool]:
    lowered = {t.lower() for t in tags}
    return bool(lowered & ANONYMOUS_TAGS), bool(lowered & CONFIDENTIAL_TAGS)


def tweet_message(v: TweetView, *, provider: str, handle: str, raw: str | None) -> InboundMessage:
    """A mention/reply → message. Anonymous/confidential reports are answered by DM, not in public."""
    anonymous, confidential = _marks(v.hashtags)
    thread = v.conversation_id or (v.id if v.in_reply_to_tweet_id is None else None)
    if anonymous or confidential:
        reply_to = ReplyTo(channel=CHANNEL, address=v.author_id, private=True)
    else:
        reply_to = ReplyTo(channel=CHANNEL, address=v.id, thread=thread, private=False)
    location = None
    if v.place or v.lat is not None:
        location = GeoPoint(lat=v.lat, lon=v.lon, text=v.place)
    meta: dict[str, Any] = {"hashtags": v.hashtags, "in_reply_to_user_id": v.in_reply_to_user_id,
                            "quoted_tweet_id": v.quoted_tweet_id, "lang": v.lang}
    return InboundMessage(
        channel=CHANNEL, provider=provider, kind="reply" if v.in_reply_to_tweet_id else "mention",
        native_id=v.id,
        sender=Sender(kind="twitter", id=v.author_id, handle=v.username, display_name=v.name),
        recipient="@" + handle, text=html.unescape(v.text), body=clean_body(v.text, v.urls, v.media_links),
        sent_at=v.created_at, attachments=_attachments(v.media), location=location,
        conversation=Conversation(thread_id=thread), parent_message_id=v.in_reply_to_tweet_id,
        reply_to=reply_to, anonymous=anonymous, confidential=confidential,
        flags=["truncated"] if v.truncated else [],
        meta={"hashtags": v.hashtags, **{k: x for k, x in meta.items() if x and k != "hashtags"}},
        raw=raw,
    )


def dm_message(event: dict[str, Any], users: dict[str, Any], *, handle: str, raw: str | None) -> InboundMessage:
    """An Account Activity ``direct_message_events`` item (type ``message_create``)."""
    eid = _s(event.get("id"))
    mc = _d(event.get("message_create"))
    sender_id = _s(mc.get("sender_id"))
    if not eid or not sender_id:
        raise InvalidEvent("DM event without id or sender")
    data = _d(mc.get("message_data"))
    text = _t(data.get("text")) or ""
    entities = _d(data.get("entities"))
    media: list[MediaView] = []
    links: list[str] = []
    att = _d(data.get("attachment"))
    if att.get("type") == "media" and isinstance(att.get("media"), dict):
        media.append(_v1_media(att["media"]))
        link = _t(att["media"].get("url"))
        if link:
            links.append(link)
    urls = _v1_urls(entities)
    tags = _tags(entities)
    anonymous, confidential = _marks(tags)
    user = _d(users.get(sender_id))
    return InboundMessage(
        channel=CHANNEL, provider=PROVIDER_WEBHOOK, kind="dm", native_id=eid,
        sender=Sender(kind="twitter", id=sender_id, handle=_s(user.get("screen_name")),
                      display_name=_t(user.get("name"))),
        recipient="@" + handle, text=html.unescape(text),
        body=clean_body(text, urls, links, strip_mentions=False),
        sent_at=parse_ms_time(event.get("created_timestamp")), attachments=_attachments(media),
        conversation=Conversation(thread_id=f"dm:{sender_id}", in_reply_to=None),
        reply_to=ReplyTo(channel=CHANNEL, address=sender_id, private=True),
        anonymous=anonymous, confidential=confidential, meta={"hashtags": tags}, raw=raw,
    )
