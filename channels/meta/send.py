"""Acknowledgements through Meta's Send API.

DMs (Messenger, Instagram) are answered to the PSID/IGSID. A public comment or visitor post is
answered with a *private reply* (``recipient: {comment_id}`` / ``{post_id}``): never a public
reply, which would tie the citizen to a complaint in front of everyone. Meta allows a standard
message only within 24 hours of the citizen's message; later, with ``LAPOR_META_HUMAN_AGENT``, a
message tagged ``HUMAN_AGENT`` up to 7 days; older ones are refused as permanent (``window_closed``)
rather than retried into a certain refusal. The core's messages carry the tag the send policy
chose (``meta["tag"]``): the policy knows the citizen's last message on the route.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from ulid import ULID

from channels.core.outbound import (
    OutboundMessage,
    PermanentReason,
    PermanentSendError,
    SendResult,
    TransientSendError,
)
from channels.core.send import HttpReply, HttpSender
from config.settings import Settings
from gateway.logging import get_logger

log = get_logger("channels.meta.send")

WINDOW = timedelta(hours=24)
HUMAN_AGENT_WINDOW = timedelta(days=7)
MAX_TEXT = 1000  # Instagram's limit (Messenger allows 2000)
# Graph error codes that mean "slow down" or "try again" (others are permanent for this message)
_THROTTLED = {4, 17, 32, 613, 80006}
_TRANSIENT = {1, 2}
# Graph (sub)codes that say why a message will never go: the citizen blocked us or is gone, the window
_PERMANENT_CODES: dict[int, PermanentReason] = {551: "blocked", 2018108: "blocked", 2018278: "window_closed",
                                               2018001: "invalid_recipient", 2534014: "invalid_recipient"}


def event_time(msg: OutboundMessage) -> datetime | None:
    """When the citizen wrote: the source's ``sent_at``, else the record id's ULID time (receipt)."""
    sent = msg.sent_at()
    if sent is not None:
        return sent
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


class MetaSender(HttpSender):
    """Answers both channels (a Page token serves Messenger and linked Instagram), one per process."""

    def __init__(self, settings: Settings, *, timeout_s: float = 10.0) -> None:
        super().__init__(timeout_s=timeout_s)
        self.base = settings.meta_graph_url.rstrip("/")
        self.token = Settings.secret(settings.meta_page_token)
        self.page = settings.meta_page_id or "me"
        self.human_agent = settings.meta_human_agent

    @property
    def url(self) -> str:
        return f"{self.base}/{self.page}/messages"

    async def __call__(self, msg: OutboundMessage) -> SendResult:
        if self.token is None:
            raise PermanentSendError("LAPOR_META_PAGE_TOKEN not set", code="not_configured")
        tag = msg.meta.get("tag") if msg.meta else None
        if msg.kind != "reply":  # the core's messages: the send policy decided the window (last message seen)
            sent = event_time(msg)
            age = datetime.now(UTC) - sent if sent is not None else None
            if age is not None and age > WINDOW:
                if not (self.human_agent and age <= HUMAN_AGENT_WINDOW):
                    raise PermanentSendError("outside the 24-hour messaging window", code="window_closed")
                tag = "HUMAN_AGENT"
        body: dict[str, Any] = {"recipient": recipient(msg), "messaging_type": "RESPONSE",
                                "message": {"text": msg.text[:MAX_TEXT]}}
        if tag:  # after the 24 h window, a human agent's answer (up to 7 days, LAPOR_META_HUMAN_AGENT)
            body.update(messaging_type="MESSAGE_TAG", tag=str(tag))
        reply = await self.request(msg.channel, "POST", self.url, params={"access_token": self.token}, json=body)
        self.check(reply)
        log.info("meta.ack_sent", channel=msg.channel, record=msg.record_id, private_reply=not msg.private)
        mid = reply.json().get("message_id")
        return SendResult(provider_message_ids=(str(mid),) if mid else (), parts=1,
                          truncated=len(msg.text) > MAX_TEXT)

    def check(self, reply: HttpReply, detail: str = "") -> None:
        """Graph's error codes decide, not only the HTTP status (a throttle can come as a 400)."""
        if 200 <= reply.status < 300:
            return
        _raise_for(reply.status, reply.json(), reply.retry_after)


def _raise_for(status: int, doc: dict[str, Any], retry_after: float | None) -> None:
    raw_err = doc.get("error")
    err: dict[str, Any] = raw_err if isinstance(raw_err, dict) else {}
    code = err.get("code")
    what = f"HTTP {status}, code {code}, subcode {err.get('error_subcode')}: {str(err.get('message', ''))[:200]}"
    if status == 429 or code in _THROTTLED:
        raise TransientSendError(f"rate limited ({what})", retry_after=60.0 if retry_after is None else retry_after,
                                 rate_limited=True)
    if status >= 500 or code in _TRANSIENT or err.get("is_transient") is True:
        raise TransientSendError(f"send API error ({what})", retry_after=retry_after)
    sub = err.get("error_subcode")
    reason: PermanentReason = (_PERMANENT_CODES.get(sub) if isinstance(sub, int) else None) or (
        _PERMANENT_CODES.get(code) if isinstance(code, int) else None) or "rejected"
    raise PermanentSendError(f"send API refused ({what})", code=reason)
