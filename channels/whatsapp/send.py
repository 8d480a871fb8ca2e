"""Replies through the Cloud API: ``POST {graph}/{phone-number-id}/messages`` with the token.

What goes out:
- the acknowledgement, quoting the citizen's message (``context.message_id``) so it is clear
  which report got which reference;
- the completeness question (``meta["ask_location"]``) as an interactive location request;
- the core's messages: free text while the 24-hour window is open, the approved template
  (``LAPOR_WHATSAPP_TEMPLATE``, language ``LAPOR_WHATSAPP_TEMPLATE_LANGUAGE``, body parameters
  the reference and the text) once it is closed — whether the dispatcher says so
  (``meta["template"]``), the citizen's message is older than 24 h, or the API answers 131047.
  No template configured ⇒ ``window_closed``.

Pace: the business number's throughput (``LAPOR_WHATSAPP_SEND_PER_S``, 80/s by default) and
each citizen's (``LAPOR_WHATSAPP_SEND_PER_RECIPIENT_PER_MIN``): a message waits a few seconds
for its turn at most, then goes back to the retry schedule. The accepted message's wamid is the
provider id of the send (statuses come back with it) and is remembered with its record id, so a
citizen quoting it is linked to that record.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import redis.asyncio as aioredis
from aiolimiter import AsyncLimiter

from channels.core.outbound import OutboundMessage, PermanentSendError, SendResult, TransientSendError
from channels.core.send import HttpReply, HttpSender, KeyedLimiters
from channels.whatsapp import graph, links
from channels.whatsapp.notifications import CHANNEL
from config.settings import Settings
from gateway.logging import get_logger
from gateway.redis_clients import connect

log = get_logger("channels.whatsapp.send")

WINDOW = timedelta(hours=24)
_MAX_RECIPIENT_LIMITERS = 10_000


def citizen_time(msg: OutboundMessage) -> datetime | None:
    """When the citizen wrote the message this one answers (the source's ``sent_at``)."""
    return msg.sent_at()


def needs_template(msg: OutboundMessage, now: datetime | None = None) -> bool:
    """Outside the 24-hour window: the dispatcher's word, else the age of the citizen's message."""
    if msg.meta.get("template"):
        return True
    sent = citizen_time(msg)
    return sent is not None and (now or datetime.now(UTC)) - sent > WINDOW


def quoted(msg: OutboundMessage) -> str | None:
    """The citizen's message to quote: for the acknowledgement and the question, not later news."""
    if msg.kind != "ack" and not msg.meta.get("ask_location"):
        return None
    ids = msg.meta.get("message_ids") or []
    first = ids[0] if ids else None
    return first if isinstance(first, str) and first.startswith("wamid.") else None


class WhatsAppSender(HttpSender):
    """One per process: one HTTP session, the number's and each citizen's pace."""

    def __init__(self, settings: Settings, *, redis: aioredis.Redis | None = None, timeout_s: float = 10.0,
                 max_wait_s: float = 3.0) -> None:
        super().__init__(timeout_s=timeout_s)
        self.settings = settings
        self.base = settings.whatsapp_graph_url.rstrip("/")
        self.token = Settings.secret(settings.whatsapp_token)
        self.phone_id = settings.whatsapp_phone_number_id
        self.template = (settings.whatsapp_template or "").strip() or None
        self.language = settings.whatsapp_template_language
        self.max_wait_s = max_wait_s
        self._number = AsyncLimiter(settings.whatsapp_send_per_s, 1)
        self._per_min = settings.whatsapp_send_per_recipient_per_min
        self._recipient_limiter = KeyedLimiters(lambda _to: AsyncLimiter(self._per_min, 60), _MAX_RECIPIENT_LIMITERS)
        self._redis = redis
        self._owns_redis = redis is None
        self.link_ttl_s = settings.route_ttl_days * 86400

    @property
    def url(self) -> str:
        return f"{self.base}/{self.phone_id}/messages"

    async def close(self) -> None:
        await super().close()
        if self._owns_redis and self._redis is not None:
            await self._redis.aclose()
            self._redis = None

    async def _pace(self, to: str) -> None:
        """Wait for the citizen's and the number's turn, a few seconds at most (then retry later)."""
        try:
            async with asyncio.timeout(self.max_wait_s):
                await self._recipient_limiter(to).acquire()
                await self._number.acquire()
        except TimeoutError:
            raise TransientSendError("whatsapp send pace", retry_after=self.max_wait_s, rate_limited=True) from None

    def payload(self, msg: OutboundMessage, *, template: bool) -> dict[str, Any]:
        if template:
            if self.template is None:
                raise PermanentSendError("outside the 24-hour window and LAPOR_WHATSAPP_TEMPLATE is not set",
                                         code="window_closed")
            return graph.template_message(msg.address, self.template, self.language, msg.reference or "",
                                          msg.text)
        if msg.meta.get("ask_location"):
            return graph.location_request(msg.address, msg.text, quote=quoted(msg))
        return graph.text_message(msg.address, msg.text, quote=quoted(msg))

    async def _post(self, body: dict[str, Any]) -> HttpReply:
        return await self.request(CHANNEL, "POST", self.url, json=body,
                                  headers={"Authorization": f"Bearer {self.token}"})

    async def __call__(self, msg: OutboundMessage) -> SendResult:
        if self.token is None or not self.phone_id:
            raise PermanentSendError("LAPOR_WHATSAPP_TOKEN or LAPOR_WHATSAPP_PHONE_NUMBER_ID not set",
                                     code="not_configured")
        template = needs_template(msg)
        body = self.payload(msg, template=template)
        await self._pace(msg.address)
        reply = await self._post(body)
        err = graph.graph_error(reply.status, reply.json())
        if err is not None and err.code == graph.REENGAGEMENT and not template and self.template is not None:
            template = True  # the window closed earlier than we knew: the template may still go
            reply = await self._post(self.payload(msg, template=True))
            err = graph.graph_error(reply.status, reply.json())
        if err is not None:
            raise graph.send_error(err, reply.retry_after)
        wamid = graph.sent_id(reply.json())
        if wamid and msg.record_id:
            await self._remember(wamid, msg.record_id)
        log.info("whatsapp.sent", kind=msg.kind, record=msg.record_id, template=template,
                 question=bool(msg.meta.get("ask_location")))
        return SendResult(provider_message_ids=(wamid,) if wamid else (), parts=1,
                          truncated=not template and len(msg.text) > graph.MAX_TEXT)

    async def _remember(self, wamid: str, record_id: str) -> None:
        """wamid → record id, for replies quoting it; the message is sent already, so never raise."""
        t0 = time.perf_counter()
        try:
            if self._redis is None:
                self._redis = connect(self.settings, max_connections=8)
            await links.remember(self._redis, wamid, record_id, self.link_ttl_s)
        except Exception as exc:
            log.warning("whatsapp.link_not_kept", error=type(exc).__name__,
                        ms=round((time.perf_counter() - t0) * 1000))


def senders(settings: Settings) -> dict[str, Any]:
    if Settings.secret(settings.whatsapp_token) is None or not settings.whatsapp_phone_number_id:
        return {}
    return {CHANNEL: WhatsAppSender(settings)}
