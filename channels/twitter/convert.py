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
_LEADING_MENTIONS = re.compile(r"^(?:\s*@\w{1,50})+\s*")
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
def _d(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _s(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return str(value)


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
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def parse_ms_time(value: Any) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(value) / 1000, tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def _point(geo: Any) -> tuple[float | None, float | None]:
    """GeoJSON ``{"type": "Point", "coordinates": [lon, lat]}`` → (lat, lon)."""
    if isinstance(geo, dict):
        coords = geo.get("coordinates")
        if isinstance(coords, list) and len(coords) == 2:
            try:
                lon, lat = float(coords[0]), float(coords[1])
            except (TypeError, ValueError):
                return None, None
            if -90 <= lat <= 90 and -180 <= lon <= 180:
                return lat, lon
    return None, None


def _best_variant(variants: Any) -> tuple[str | None, str | None]:
    """The highest-bitrate MP4 of a video (what a reviewer wants to watch)."""
    best: tuple[int, str | None, str | None] = (-1, None, None)
    for v in variants or []:
        if not isinstance(v, dict) or not v.get("url"):
            continue
        ctype = v.get("content_type")
        rate = int(v.get("bitrate") or v.get("bit_rate") or 0)
        if ctype == "video/mp4" and rate > best[0]:
            best = (rate, v["url"], ctype)
        elif best[1] is None:
            best = (-1 if ctype != "video/mp4" else rate, v["url"], ctype)
    return best[1], best[2]


def _tags(entities: dict[str, Any]) -> list[str]:
    return [str(h.get("tag") or h.get("text")) for h in entities.get("hashtags") or []
            if isinstance(h, dict) and (h.get("tag") or h.get("text"))]


# ---------------------------------------------------------------------------- v1.1 (webhook)
def view_from_v1(t: dict[str, Any]) -> TweetView:
    """An Account Activity ``tweet_create_events`` item (v1.1 Tweet object)."""
    tid = _s(t.get("id_str")) or _s(t.get("id"))
    user = _d(t.get("user"))
    author = _s(user.get("id_str")) or _s(user.get("id"))
    if not tid or not author:
        raise InvalidEvent("tweet without id or author")
    ext = _d(t.get("extended_tweet"))
    text = ext.get("full_text") or t.get("full_text") or t.get("text") or ""
    entities = ext.get("entities") or t.get("entities") or {}
    ext_entities = ext.get("extended_entities") or t.get("extended_entities") or {}
    media_items = ext_entities.get("media") or entities.get("media") or []
    media: list[MediaView] = []
    media_links: list[str] = []
    for m in media_items:
        if not isinstance(m, dict):
            continue
        mtype = m.get("type") or "photo"
        url, mime = m.get("media_url_https") or m.get("media_url"), None
        if mtype in ("video", "animated_gif"):
            vurl, vmime = _best_variant((m.get("video_info") or {}).get("variants"))
            url, mime = vurl or url, vmime
        media.append(MediaView(type=mtype, url=url, mime=mime, alt_text=m.get("ext_alt_text"),
                               key=_s(m.get("id_str"))))
        if m.get("url"):
            media_links.append(m["url"])
    lat, lon = _point(t.get("coordinates"))
    place = t.get("place") if isinstance(t.get("place"), dict) else None
    is_reply_to = _s(t.get("in_reply_to_status_id_str")) or _s(t.get("in_reply_to_status_id"))
    mentions = [m for m in entities.get("user_mentions") or [] if isinstance(m, dict)]
    return TweetView(
        id=tid, author_id=author, username=_s(user.get("screen_name")), name=_s(user.get("name")),
        text=text, created_at=parse_v1_time(t.get("created_at")),
        conversation_id=_s(t.get("conversation_id_str")),
        in_reply_to_tweet_id=is_reply_to,
        in_reply_to_user_id=_s(t.get("in_reply_to_user_id_str")) or _s(t.get("in_reply_to_user_id")),
        quoted_tweet_id=_s(t.get("quoted_status_id_str")),
        retweet="retweeted_status" in t,
        truncated=bool(t.get("truncated")) and not ext.get("full_text"),
        lang=_s(t.get("lang")),
        hashtags=_tags(entities),
        mention_ids=[str(m.get("id_str") or m.get("id")) for m in mentions if m.get("id_str") or m.get("id")],
        mention_names=[str(m["screen_name"]) for m in mentions if m.get("screen_name")],
        urls=[(u["url"], u.get("expanded_url") or u["url"]) for u in entities.get("urls") or []
              if isinstance(u, dict) and u.get("url")],
        media_links=media_links, media=media,
        place=_s(place.get("full_name")) if place else None, lat=lat, lon=lon,
    )


# ---------------------------------------------------------------------------- v2 (poller)
def view_from_v2(t: dict[str, Any], includes: dict[str, Any] | None = None) -> TweetView:
    """One ``data`` item of a v2 response, with the response's ``includes``."""
    includes = includes or {}
    tid, author = _s(t.get("id")), _s(t.get("author_id"))
    if not tid or not author:
        raise InvalidEvent("tweet without id or author_id")
    users = {u.get("id"): u for u in includes.get("users") or [] if isinstance(u, dict)}
    media_by_key = {m.get("media_key"): m for m in includes.get("media") or [] if isinstance(m, dict)}
    places = {p.get("id"): p for p in includes.get("places") or [] if isinstance(p, dict)}
    note = _d(t.get("note_tweet"))
    text = note.get("text") or t.get("text") or ""
    entities = note.get("entities") or t.get("entities") or {}
    refs = [r for r in t.get("referenced_tweets") or [] if isinstance(r, dict)]

    def ref(kind: str) -> str | None:
        return next((_s(r.get("id")) for r in refs if r.get("type") == kind), None)

    media: list[MediaView] = []
    for key in (t.get("attachments") or {}).get("media_keys") or []:
        m = media_by_key.get(key)
        if not m:
            media.append(MediaView(type="photo", url=None, key=key))
            continue
        mtype = m.get("type") or "photo"
        url, mime = m.get("url"), None
        if mtype in ("video", "animated_gif"):
            vurl, vmime = _best_variant(m.get("variants"))
            url, mime = vurl or m.get("preview_image_url"), vmime
        media.append(MediaView(type=mtype, url=url, mime=mime, alt_text=m.get("alt_text"), key=key))
    urls, media_links = [], []
    for u in entities.get("urls") or []:
        if not isinstance(u, dict) or not u.get("url"):
            continue
        if u.get("media_key"):
            media_links.append(u["url"])
        else:
            urls.append((u["url"], u.get("unwound_url") or u.get("expanded_url") or u["url"]))
    geo = _d(t.get("geo"))
    lat, lon = _point(geo.get("coordinates"))
    place = places.get(geo.get("place_id")) if geo.get("place_id") else None
    user = users.get(author, {})
    mentions = [m for m in entities.get("mentions") or [] if isinstance(m, dict)]
    return TweetView(
        id=tid, author_id=author, username=_s(user.get("username")), name=_s(user.get("name")),
        text=text, created_at=parse_v2_time(t.get("created_at")),
        conversation_id=_s(t.get("conversation_id")),
        in_reply_to_tweet_id=ref("replied_to"), in_reply_to_user_id=_s(t.get("in_reply_to_user_id")),
        quoted_tweet_id=ref("quoted"), retweet=ref("retweeted") is not None, lang=_s(t.get("lang")),
        hashtags=_tags(entities),
        mention_ids=[str(m["id"]) for m in mentions if m.get("id")],
        mention_names=[str(m["username"]) for m in mentions if m.get("username")],
        urls=urls, media_links=media_links, media=media,
        place=_s(place.get("full_name")) if place else None, lat=lat, lon=lon,
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
        conversation=Conversation(thread_id=thread, in_reply_to=v.in_reply_to_tweet_id),
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
    text = data.get("text") or ""
    entities = data.get("entities") or {}
    media: list[MediaView] = []
    links: list[str] = []
    att = _d(data.get("attachment"))
    if att.get("type") == "media" and isinstance(att.get("media"), dict):
        m = att["media"]
        mtype = m.get("type") or "photo"
        url, mime = m.get("media_url_https") or m.get("media_url"), None
        if mtype in ("video", "animated_gif"):
            vurl, vmime = _best_variant((m.get("video_info") or {}).get("variants"))
            url, mime = vurl or url, vmime
        media.append(MediaView(type=mtype, url=url, mime=mime, key=_s(m.get("id_str"))))
        if m.get("url"):
            links.append(m["url"])
    urls = [(u["url"], u.get("expanded_url") or u["url"]) for u in entities.get("urls") or []
            if isinstance(u, dict) and u.get("url")]
    tags = _tags(entities)
    anonymous, confidential = _marks(tags)
    user = _d(users.get(sender_id))
    return InboundMessage(
        channel=CHANNEL, provider=PROVIDER_WEBHOOK, kind="dm", native_id=eid,
        sender=Sender(kind="twitter", id=sender_id, handle=_s(user.get("screen_name")),
                      display_name=_s(user.get("name"))),
        recipient="@" + handle, text=html.unescape(text),
        body=clean_body(text, urls, links, strip_mentions=False),
        sent_at=parse_ms_time(event.get("created_timestamp")), attachments=_attachments(media),
        conversation=Conversation(thread_id=f"dm:{sender_id}", in_reply_to=None),
        reply_to=ReplyTo(channel=CHANNEL, address=sender_id, private=True),
        anonymous=anonymous, confidential=confidential, meta={"hashtags": tags}, raw=raw,
    )
