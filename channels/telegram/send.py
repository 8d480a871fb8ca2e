"""Outbound to Telegram: acknowledgements and conversation replies with ``sendMessage``.

Rate limits (Telegram FAQ, PTB constants): about one message per second per chat, 20 per
minute per group, 30 per second per bot. Each sender process paces itself with ``aiolimiter``
buckets (waiting at most a few seconds for a chat, so that one chatty citizen does not hold up
the others; beyond that the message goes back to the outbound retry schedule); a 429 from
Telegram (``parameters.retry_after``) becomes ``TransientSendError(retry_after=…)`` so the
outbound worker retries after the time Telegram asked for. Blocked bots, unknown chats and a
revoked token are permanent.
"""

from __future__ import annotations

import asyncio
import datetime as dtm
import warnings

from aiolimiter import AsyncLimiter
from telegram import Bot, KeyboardButton, ReplyKeyboardMarkup, ReplyParameters
from telegram import error as tg_error

from channels.core.outbound import (
    OutboundMessage,
    PermanentReason,
    PermanentSendError,
    SendResult,
    TransientSendError,
)
from channels.core.reference import reference
from channels.core.send import KeyedLimiters, SenderBase
from channels.telegram import texts
from channels.telegram.api import LazyBot
from config.settings import Settings
from gateway.logging import get_logger

log = get_logger("channels.telegram.send")

_MAX_CHAT_LIMITERS = 10_000


def retry_after_s(exc: tg_error.RetryAfter) -> float:
    with warnings.catch_warnings():  # PTB 22 warns about the int/timedelta transition
        warnings.simplefilter("ignore")
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)


def location_keyboard(msg: OutboundMessage) -> ReplyKeyboardMarkup | None:
    """A one-time "send location" button under the completeness question (``meta.ask_location``)."""
    if not msg.meta.get("ask_location"):
        return None
    return ReplyKeyboardMarkup([[KeyboardButton(texts.SEND_LOCATION, request_location=True)]],
                               resize_keyboard=True, one_time_keyboard=True)


def message_text(msg: OutboundMessage) -> str:
    """Acks of follow-ups and edits say so; everything else is the text the dispatcher chose."""
    if msg.kind == "ack" and msg.reference:
        flags = msg.meta.get("flags") or []
        ids = msg.meta.get("message_ids") or []
        parent = msg.meta.get("in_reply_to")
        main_ref = reference(parent) if isinstance(parent, str) and parent else None
        if any(":edit:" in str(i) for i in ids):
            return texts.edit_ack(msg.reference, main_ref)
        if "follow_up" in flags:
            return texts.follow_up_ack(msg.reference, main_ref)
    return msg.text


class TelegramSender(SenderBase, LazyBot):
    def __init__(self, settings: Settings, bot: Bot | None = None) -> None:
        super().__init__()
        self.settings = settings
        self._bot = bot
        self._owns_bot = bot is None
        self._overall = AsyncLimiter(settings.telegram_send_per_s, 1)
        self._chat_limiter = KeyedLimiters(self._new_chat_limiter, _MAX_CHAT_LIMITERS)
        self.max_wait_s = 3.0

    async def close(self) -> None:
        """Close the HTTP connection pool of a bot this sender made (never a bot it was given)."""
        if self._owns_bot and self._bot is not None:
            await self._bot.request.shutdown()
            self._bot = None

    def _method_url(self, method: str) -> str:
        """The Bot API URL of ``method``, for the call log (``redact_url`` hides the token)."""
        token = Settings.secret(self.settings.telegram_bot_token) or ""
        return f"{self.settings.telegram_api_url.rstrip('/')}/bot{token}/{method}"

    def _new_chat_limiter(self, chat: str) -> AsyncLimiter:
        if chat.startswith("-"):  # a group
            return AsyncLimiter(20, 60)
        return AsyncLimiter(1, 1 / self.settings.telegram_send_per_chat_per_s)

    async def __call__(self, msg: OutboundMessage) -> SendResult:
        try:
            chat_id = int(msg.address)
        except ValueError:
            raise PermanentSendError(f"not a Telegram chat id: {msg.address[:40]!r}",
                                     code="invalid_recipient") from None
        reply = None
        if msg.thread and msg.thread.isdigit():
            reply = ReplyParameters(message_id=int(msg.thread), allow_sending_without_reply=True)
        limiter = self._chat_limiter(msg.address)
        try:  # wait a little for the chat's pace; a longer queue goes back to the outbound retry schedule
            async with asyncio.timeout(self.max_wait_s):
                await limiter.acquire()
        except TimeoutError:
            raise TransientSendError("telegram per-chat pace", retry_after=self.max_wait_s) from None
        async with self._overall, self.recorded("telegram", "POST", self._method_url("sendMessage")) as note:
            try:
                sent = await self.bot.send_message(chat_id=chat_id, text=message_text(msg), reply_parameters=reply,
                                                   reply_markup=location_keyboard(msg))
            except tg_error.RetryAfter as exc:
                note.status = 429
                raise TransientSendError("telegram flood control", retry_after=retry_after_s(exc),
                                         rate_limited=True) from None
            except tg_error.Forbidden as exc:  # the citizen blocked the bot, or left the group
                note.status = 403
                raise PermanentSendError(f"telegram refused: {exc}", code="blocked") from None
            except tg_error.InvalidToken as exc:
                note.status = 401
                raise PermanentSendError(f"telegram refused: {exc}", code="not_configured") from None
            except tg_error.BadRequest as exc:
                note.status = 400
                code: PermanentReason = "invalid_recipient" if "chat not found" in str(exc).lower() else "rejected"
                raise PermanentSendError(f"telegram bad request: {exc}", code=code) from None
            except tg_error.TelegramError as exc:  # NetworkError, TimedOut, 5xx
                note.status = "unreachable"
                raise TransientSendError(f"telegram: {type(exc).__name__}") from None
            note.status = 200
        log.info("telegram.sent", kind=msg.kind, record=msg.record_id)
        return SendResult(provider_message_ids=(str(sent.message_id),), parts=1)


def senders(settings: Settings) -> dict[str, TelegramSender]:
    if Settings.secret(settings.telegram_bot_token) is None:
        return {}
    return {"telegram": TelegramSender(settings)}
