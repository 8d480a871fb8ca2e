"""Dispatcher hook: what a stored WhatsApp message needs before it becomes a record.

- **Media, at once.** A photo, voice note, video, document or sticker arrives as a media id.
  The Cloud API gives its download URL (``GET /{media-id}`` with the token), which lives five
  minutes and is itself fetched with the token — so this runs when the dispatcher reads the
  message (seconds after the webhook stored it), never in the webhook request, which must
  answer Meta quickly. Bytes come only from Meta's media hosts (or the configured Graph
  origin), capped by ``LAPOR_BLOB_MAX_BYTES``, into the blob store (``channels.media``). A
  failed fetch never holds the complaint back: the attachment keeps the media id.
- **Native threading.** A message quoting (``context.id``) one of our messages — the
  acknowledgement, the question, a core message — or one of the citizen's own earlier
  messages is a follow-up of that record: flag ``follow_up``, ``conversation.in_reply_to``.

The look-ups of one dispatch batch run concurrently (bounded, one HTTP session).
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

import aiohttp
import redis.asyncio as aioredis

from channels.core.hooks import Decision, Emit, FetchingPreprocessor
from channels.media import MediaError, MediaTooLarge, fetch_media, meta_policy
from channels.whatsapp import links
from channels.whatsapp.notifications import CHANNEL
from config.settings import Settings
from gateway import keys, metrics
from gateway.blobs import BlobStore, BlobTooLarge, FileBlobStore
from gateway.logging import get_logger
from normalizer.context import NormalizeContext
from normalizer.models import Attachment, InboundMessage

log = get_logger("channels.whatsapp.hooks")
_MEDIA_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")


class MediaLookupFailed(Exception):
    pass


class WhatsAppHook(FetchingPreprocessor):
    def __init__(self, settings: Settings, *, blobs: BlobStore | None = None, timeout_s: float = 20.0) -> None:
        self.base = settings.whatsapp_graph_url.rstrip("/")
        self.token = Settings.secret(settings.whatsapp_token)
        self.fetch = settings.whatsapp_fetch_media
        self.max_bytes = settings.blob_max_bytes
        self.blobs: BlobStore = blobs or FileBlobStore(settings.blobs_path, settings.blob_max_bytes)
        self.timeout = aiohttp.ClientTimeout(total=timeout_s)
        self.media_policy = meta_policy(settings.whatsapp_graph_url, settings.blob_max_bytes)

    def applies(self, msg: InboundMessage) -> bool:
        if msg.channel != CHANNEL:
            return False
        return bool(msg.parent_message_id) or (self.fetch and any(_pending(a) for a in msg.attachments))

    async def prepare_in(self, r: aioredis.Redis, session: aiohttp.ClientSession, limit: asyncio.Semaphore,
                         msg: InboundMessage) -> Decision:
        if self.fetch:
            async with limit:
                await self._media(session, msg)
        return await self._link(r, msg)

    # ------------------------------------------------------------------ threading
    async def _link(self, r: aioredis.Redis, msg: InboundMessage) -> Decision:
        quoted = msg.parent_message_id
        if not quoted:
            return Decision.single(msg)
        record_id = await links.record_for(r, quoted)
        if record_id is None:  # the citizen quoting their own earlier message
            own = await r.get(keys.idem(f"{CHANNEL}:{quoted}"))
            record_id = own.decode() if isinstance(own, bytes) else own
        if not record_id or record_id == msg.id:
            return Decision.single(msg)
        if "follow_up" not in msg.flags:
            msg.flags.append("follow_up")
        return Decision(emit=[Emit([msg], NormalizeContext(in_reply_to=record_id))])

    # ------------------------------------------------------------------ media
    async def _media(self, session: aiohttp.ClientSession, msg: InboundMessage) -> None:
        for att in msg.attachments:
            if _pending(att):
                outcome = await self._one(session, msg, att)
                metrics.count(CHANNEL, f"media_{outcome}")

    async def _one(self, session: aiohttp.ClientSession, msg: InboundMessage, att: Attachment) -> str:
        """Fill ``ref``/``sha256``/``size`` of one attachment; return the outcome for metrics."""
        if self.token is None:
            return "not_configured"
        auth = {"Authorization": f"Bearer {self.token}"}
        try:
            info = await self._lookup(session, att.url or "", auth)
            size = info.get("file_size")
            if isinstance(size, int) and size > self.max_bytes:
                raise MediaTooLarge(f"{size} bytes declared, cap {self.max_bytes}")
            media = await fetch_media(str(info.get("url") or ""), self.media_policy, headers=auth)
            stored = await self.blobs.put(media.data)
        except (MediaTooLarge, BlobTooLarge) as exc:
            msg.meta.setdefault("media_not_fetched", []).append(f"too large: {exc}"[:200])
            return "too_large"
        except (MediaLookupFailed, MediaError, OSError) as exc:
            msg.meta.setdefault("media_not_fetched", []).append(f"{type(exc).__name__}: {str(exc)[:100]}")
            log.warning("whatsapp.media_fetch_failed", record=msg.id, error=type(exc).__name__)
            return "fetch_failed"
        att.ref, att.sha256, att.size = stored.ref, stored.sha256, stored.size
        mime = info.get("mime_type")
        att.mime = att.mime or (mime if isinstance(mime, str) else None) or media.mime
        return "fetched"

    async def _lookup(self, session: aiohttp.ClientSession, media_id: str, auth: dict[str, str]) -> dict[str, Any]:
        """``GET /{media-id}`` ⇒ ``{url, mime_type, sha256, file_size}``."""
        if not _MEDIA_ID.fullmatch(media_id):  # it goes into a URL path carrying our token
            raise MediaLookupFailed("not a media id")
        try:
            async with session.get(f"{self.base}/{media_id}", headers=auth) as resp:
                doc = await resp.json(content_type=None)
                if resp.status != 200 or not isinstance(doc, dict) or not isinstance(doc.get("url"), str):
                    err = doc.get("error", {}) if isinstance(doc, dict) else {}
                    code = err.get("code") if isinstance(err, dict) else None
                    raise MediaLookupFailed(f"HTTP {resp.status}, code {code}")
                return doc
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise MediaLookupFailed(f"graph unreachable: {type(exc).__name__}") from None


def _pending(att: Attachment) -> bool:
    return bool(att.url) and not att.ref


def preprocessors(settings: Settings) -> list[Any]:
    return [WhatsAppHook(settings)]
