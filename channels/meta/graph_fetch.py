"""Dispatcher hook: what a Meta message needs from the Graph API before it becomes a record.

Never in the webhook request (Meta wants its 200 within seconds), always after the event is
stored: an Instagram mention carries ids only, so its text is fetched here
(``GET /{ig-user-id}?fields=mentioned_comment…`` / ``mentioned_media…``); and
with ``LAPOR_META_FETCH_ATTACHMENTS`` the media behind Meta's expiring CDN links is copied into
the blob store through ``channels.media`` (Meta's media hosts only, https, size-capped). A failed
fetch never blocks the complaint: the record goes on with what we have (the URL, the mention ids
in ``source.message_ids``) and the failure is logged. The look-ups of one dispatch batch run
concurrently (at most ``FETCH_CONCURRENCY`` at a time, one HTTP session), so a batch of mentions
costs about one Graph round trip, not one per message.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

import aiohttp
import redis.asyncio as aioredis

from channels.core.hooks import Decision, FetchingPreprocessor
from channels.media import MediaError, MediaTooLarge, fetch_media, meta_policy
from channels.meta.events import apply_markers, when
from config.settings import Settings
from gateway.blobs import BlobTooLarge, FileBlobStore
from gateway.logging import get_logger
from normalizer.models import Attachment, AttachmentKind, InboundMessage, Sender

log = get_logger("channels.meta.graph_fetch")
FETCH_CONCURRENCY = FetchingPreprocessor.FETCH_CONCURRENCY

_MEDIA_KINDS: dict[str, AttachmentKind] = {"IMAGE": "image", "VIDEO": "video", "CAROUSEL_ALBUM": "image"}


class FetchFailed(Exception):
    pass


class GraphFetcher(FetchingPreprocessor):
    """Fills in what a stored Meta message lacks (mention text, attachment bytes) from the Graph API."""

    def __init__(self, settings: Settings, *, timeout_s: float = 20.0) -> None:
        self.base = settings.meta_graph_url.rstrip("/")
        self.token = Settings.secret(settings.meta_page_token)
        self.ig_user = settings.meta_ig_user_id
        self.fetch_attachments = settings.meta_fetch_attachments
        self.max_bytes = settings.blob_max_bytes
        self.blobs = FileBlobStore(settings.blobs_path, settings.blob_max_bytes)
        self.timeout = aiohttp.ClientTimeout(total=timeout_s)
        self.media_policy = meta_policy(settings.meta_graph_url, settings.blob_max_bytes)

    def applies(self, msg: InboundMessage) -> bool:
        if msg.channel not in ("facebook", "instagram") or msg.provider != "meta":
            return False
        return bool(msg.meta.get("needs_fetch")) or (
            self.fetch_attachments and any(a.url and not a.sha256 for a in msg.attachments))

    async def prepare_in(self, r: aioredis.Redis, session: aiohttp.ClientSession, limit: asyncio.Semaphore,
                         msg: InboundMessage) -> Decision:
        async with limit:
            await self._fetch(session, msg)
        return Decision.single(msg)

    async def _fetch(self, session: aiohttp.ClientSession, msg: InboundMessage) -> None:
        if msg.meta.get("needs_fetch"):
            await self._mention(session, msg)
        if self.fetch_attachments:
            for a in msg.attachments:
                if a.url and not a.sha256:
                    await self._attachment(session, msg, a)

    # ------------------------------------------------------------------ mentions
    async def _mention(self, session: aiohttp.ClientSession, msg: InboundMessage) -> None:
        ids = msg.meta.get("mention") or {}
        if self.token is None or not self.ig_user:
            msg.meta["fetch_error"] = "LAPOR_META_PAGE_TOKEN or LAPOR_META_IG_USER_ID not set"
            return
        cid, mid = ids.get("comment_id"), ids.get("media_id")
        if cid:
            fields = f"mentioned_comment.comment_id({cid}){{text,username,timestamp}}"
        else:
            fields = f"mentioned_media.media_id({mid}){{caption,media_type,media_url,username,timestamp}}"
        try:
            doc = await self._get_json(session, f"{self.base}/{self.ig_user}",
                                       {"fields": fields, "access_token": self.token})
        except FetchFailed as exc:
            msg.meta["fetch_error"] = str(exc)[:300]
            log.warning("meta.mention_fetch_failed", record=msg.id, error=str(exc)[:120])
            return
        found = doc.get("mentioned_comment" if cid else "mentioned_media")
        if not isinstance(found, dict):
            msg.meta["fetch_error"] = "mention not returned (deleted, or a private account)"
            return
        msg.text = str(found.get("text" if cid else "caption") or "")
        username = found.get("username")
        if isinstance(username, str) and username:
            # mentions expose the author's username only (no IGSID): it is the best identity we have
            msg.sender = Sender(kind="instagram", id=username, handle=username)
            msg.meta.pop("sender_unknown", None)
        sent: datetime | None = when(found.get("timestamp"))
        msg.sent_at = sent or msg.sent_at
        media_url = found.get("media_url")
        if isinstance(media_url, str) and media_url:
            msg.attachments.append(Attachment(kind=_MEDIA_KINDS.get(str(found.get("media_type")), "other"),
                                              url=media_url))
        msg.meta["needs_fetch"] = False
        apply_markers(msg, public=True)

    async def _get_json(self, session: aiohttp.ClientSession, url: str, params: dict[str, str]) -> dict[str, Any]:
        try:
            async with session.get(url, params=params) as resp:
                doc = await resp.json(content_type=None)
                if resp.status != 200 or not isinstance(doc, dict):
                    err = doc.get("error", {}) if isinstance(doc, dict) else {}
                    raise FetchFailed(f"HTTP {resp.status}, code {err.get('code') if isinstance(err, dict) else None}")
                return doc
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise FetchFailed(f"graph unreachable: {type(exc).__name__}") from None

    # ------------------------------------------------------------------ attachments
    async def _attachment(self, session: aiohttp.ClientSession, msg: InboundMessage, a: Attachment) -> None:
        # the URL comes from the payload: only Meta's media hosts, https, capped (channels.media)
        try:
            media = await fetch_media(a.url or "", self.media_policy)
            stored = await self.blobs.put(media.data)
        except (MediaTooLarge, BlobTooLarge) as exc:
            msg.meta.setdefault("attachments_not_fetched", []).append(f"too large: {exc}")
            return
        except (MediaError, OSError) as exc:
            msg.meta.setdefault("attachments_not_fetched", []).append(f"{type(exc).__name__}: {str(exc)[:100]}")
            log.warning("meta.attachment_fetch_failed", record=msg.id, error=type(exc).__name__)
            return
        a.sha256, a.size, a.ref = stored.sha256, stored.size, stored.ref
        a.mime = a.mime or media.mime
