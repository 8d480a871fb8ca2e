"""Optional fetch of Telegram files into the blob store (``telegram_fetch_files``).

Runs in the dispatcher, never on the webhook path: ``getFile`` then a download from
``<api>/file/bot<token>/<file_path>`` (links live at least an hour; the Bot API serves at most
20 MB), through ``channels.media``: the Bot API file host only, size-capped while streaming.
A failed fetch never fails the record: the attachment keeps its ``file_id`` (contract: ``url`` =
file id when the bytes were not fetched).
"""

from __future__ import annotations

from telegram import Bot
from telegram import error as tg_error

from channels.media import MediaError, MediaTooLarge, fetch_media, telegram_policy
from channels.telegram.api import LazyBot
from config.settings import Settings
from gateway import metrics
from gateway.blobs import BlobStore, BlobTooLarge, FileBlobStore
from gateway.logging import get_logger
from normalizer.models import Attachment, InboundMessage

log = get_logger("channels.telegram.files")

BOT_API_DOWNLOAD_LIMIT = 20 * 1024 * 1024


class FileFetcher(LazyBot):
    def __init__(self, settings: Settings, *, bot: Bot | None = None, blobs: BlobStore | None = None) -> None:
        self.settings = settings
        self._bot = bot
        self.blobs: BlobStore = blobs or FileBlobStore(settings.blobs_path, settings.blob_max_bytes)
        self.max_bytes = min(settings.blob_max_bytes, BOT_API_DOWNLOAD_LIMIT)
        self.media_policy = telegram_policy(settings.telegram_api_url, self.max_bytes)

    async def fetch_all(self, msg: InboundMessage) -> None:
        for att in msg.attachments:
            if att.url and not att.ref:
                outcome = await self.fetch(att)
                metrics.count("telegram", f"file_{outcome}")

    async def fetch(self, att: Attachment) -> str:
        """Fill ``ref``/``sha256``/``size`` of one attachment; return the outcome for metrics."""
        assert att.url is not None
        if att.size is not None and att.size > self.max_bytes:
            return "too_large"
        try:
            tg_file = await self.bot.get_file(att.url)
            if tg_file.file_size is not None and tg_file.file_size > self.max_bytes:
                return "too_large"
            # bytes only from <api root>/file/bot…, streamed under the cap (channels.media)
            media = await fetch_media(tg_file.file_path or "", self.media_policy)
            stored = await self.blobs.put(media.data)
        except (BlobTooLarge, MediaTooLarge):
            return "too_large"
        except (tg_error.TelegramError, MediaError, OSError) as exc:
            log.warning("telegram.file_fetch_failed", error=type(exc).__name__)
            return "fetch_failed"
        att.ref, att.sha256, att.size = stored.ref, stored.sha256, stored.size
        return "fetched"
