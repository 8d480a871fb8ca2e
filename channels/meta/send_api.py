"""Acknowledgements through Meta's Send API (channels.md §1.8).

DMs (Messenger, Instagram) are answered to the PSID/IGSID. A public comment or visitor post is
answered with a *private reply* (``recipient: {comment_id}`` / ``{post_id}``): never a public
reply, which would tie the citizen to a complaint in front of everyone. Meta allows a standard
message only within 24 hours of the citizen's message; older ones are dead-lettered as permanent
rather than retried into a certain refusal.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
from ulid import ULID

from channels.core.outbound import OutboundMessage, PermanentSendError, TransientSendError
from config.settings import Settings
from gateway.logging import get_logger

log = get_logger("channels.meta.send")

WINDOW = timedelta(hours=24)
MAX_TEXT = 1000  # Instagram's limit (Messenger allows 2000)
# Graph error codes that mean "slow down" or "try again" (others are permanent for this message)
_THROTTLED = {4, 17, 32, 613, 80006}
_TRANSIENT = {1, 2}


def event_time(msg: OutboundMessage) -> datetime | None:
    """When the citizen wrote: the source's ``sent_at``, else the record id's ULID time (receipt)."""
    sent = msg.meta.get("sent_at") if msg.meta else None
    if isinstance(sent, str) and sent:
        try:
            return datetime.fromisoformat(sent.replace("Z", "+00:00"))
        except ValueError:
            pass
    if msg.record_id:
        try:
            return ULID.from_str(msg.record_id).datetime
        except ValueError:
            return None
    return None


def recipient(msg: OutboundMessage) -> dict[str, str]:
    if msg.private:
        return {"id": msg.address}
    # a public comment has its post/media as thread; a Facebook visitor post is its own thread
    # (Instagram has no visitor posts: a public Instagram item is always a comment)
    if msg.thread or msg.channel == "instagram":
        return {"comment_id": msg.address}
    return {"post_id": msg.address}


class SendApi:
    """``async (OutboundMessage) -> None`` for the outbound worker, one per process."""

    def __init__(self, settings: Settings, *, timeout_s: float = 10.0) -> None:
        self.base = settings.meta_graph_url.rstrip("/")
        self.token = Settings.secret(settings.meta_page_token)
        self.page = settings.meta_page_id or "me"
        self.timeout = aiohttp.ClientTimeout(total=timeout_s)

    @property
    def url(self) -> str:
        return f"{self.base}/{self.page}/messages"

    async def __call__(self, msg: OutboundMessage) -> None:
        if self.token is None:
            raise PermanentSendError("LAPOR_META_PAGE_TOKEN not set")
        sent = event_time(msg)
        if sent is not None and datetime.now(UTC) - sent > WINDOW:
            raise PermanentSendError("outside the 24-hour messaging window")
        body = {"recipient": recipient(msg), "messaging_type": "RESPONSE",
                "message": {"text": msg.text[:MAX_TEXT]}}
        try:
            async with aiohttp.ClientSession(timeout=self.timeout) as session, session.post(
                    self.url, params={"access_token": self.token}, json=body) as resp:
                status = resp.status
                doc = await _json(resp)
                retry_after = _retry_after(resp.headers.get("Retry-After"))
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise TransientSendError(f"send API unreachable: {type(exc).__name__}") from None
        if 200 <= status < 300:
            log.info("meta.ack_sent", channel=msg.channel, record=msg.record_id, private_reply=not msg.private)
            return
        _raise_for(status, doc, retry_after)


async def _json(resp: aiohttp.ClientResponse) -> dict[str, Any]:
    try:
        doc = await resp.json(content_type=None)
    except (ValueError, aiohttp.ContentTypeError):
        return {}
    return doc if isinstance(doc, dict) else {}


def _retry_after(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None


def _raise_for(status: int, doc: dict[str, Any], retry_after: float | None) -> None:
    raw_err = doc.get("error")
    err: dict[str, Any] = raw_err if isinstance(raw_err, dict) else {}
    code = err.get("code")
    what = f"HTTP {status}, code {code}, subcode {err.get('error_subcode')}: {str(err.get('message', ''))[:200]}"
    if status == 429 or code in _THROTTLED:
        raise TransientSendError(f"rate limited ({what})", retry_after=60.0 if retry_after is None else retry_after)
    if status >= 500 or code in _TRANSIENT or err.get("is_transient") is True:
        raise TransientSendError(f"send API error ({what})", retry_after=retry_after)
    raise PermanentSendError(f"send API refused ({what})")
