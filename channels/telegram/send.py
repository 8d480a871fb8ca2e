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
from collections import OrderedDict

from aiolimiter import AsyncLimiter
from telegram import Bot, ReplyParameters
from telegram import error as tg_error

from channels.core.outbound import OutboundMessage, PermanentSendError, TransientSendError
from channels.core.reference import reference
from channels.telegram import texts
from channels.telegram.api import make_bot
from config.settings import Settings
from gateway.logging import get_logger

log = get_logger("channels.telegram.send")

_MAX_CHAT_LIMITERS = 10_000


def retry_after_s(exc: tg_error.RetryAfter) -> float:
    with warnings.catch_warnings():  # PTB 22 warns about the int/timedelta transition
        warnings.simplefilter("ignore")
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)


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


class TelegramSender:
    def __init__(self, settings: Settings, bot: Bot | None = None) -> None:
        self.settings = settings
        self._bot = bot
        self._overall = AsyncLimiter(settings.telegram_send_per_s, 1)
        self._chats: OrderedDict[str, AsyncLimiter] = OrderedDict()
        self.max_wait_s = 3.0

    @property
    def bot(self) -> Bot:
        if self._bot is None:
            self._bot = make_bot(self.settings)
        return self._bot

    def _chat_limiter(self, chat: str) -> AsyncLimiter:
        lim = self._chats.get(chat)
        if lim is None:
            group = chat.startswith("-")
            lim = AsyncLimiter(20, 60) if group else AsyncLimiter(1, 1 / self.settings.telegram_send_per_chat_per_s)
            self._chats[chat] = lim
            if len(self._chats) > _MAX_CHAT_LIMITERS:
                self._chats.popitem(last=False)
        else:
            self._chats.move_to_end(chat)
        return lim

    async def __call__(self, msg: OutboundMessage) -> None:
        try:
            chat_id = int(msg.address)
        except ValueError:
            raise PermanentSendError(f"not a Telegram chat id: {msg.address[:40]!r}") from None
        reply = None
        if msg.thread and msg.thread.isdigit():
            reply = ReplyParameters(message_id=int(msg.thread), allow_sending_without_reply=True)
        limiter = self._chat_limiter(msg.address)
        try:  # wait a little for the chat's pace; a longer queue goes back to the outbound retry schedule
            async with asyncio.timeout(self.max_wait_s):
                await limiter.acquire()
        except TimeoutError:
            raise TransientSendError("telegram per-chat pace", retry_after=self.max_wait_s) from None
        async with self._overall:
            try:
                await self.bot.send_message(chat_id=chat_id, text=message_text(msg), reply_parameters=reply)
            except tg_error.RetryAfter as exc:
                raise TransientSendError("telegram flood control", retry_after=retry_after_s(exc)) from None
            except (tg_error.Forbidden, tg_error.InvalidToken) as exc:
                raise PermanentSendError(f"telegram refused: {exc}") from None
            except tg_error.BadRequest as exc:
                raise PermanentSendError(f"telegram bad request: {exc}") from None
            except tg_error.TelegramError as exc:  # NetworkError, TimedOut, 5xx
                raise TransientSendError(f"telegram: {type(exc).__name__}") from None
        log.info("telegram.sent", kind=msg.kind, record=msg.record_id)


def senders(settings: Settings) -> dict[str, TelegramSender]:
    if Settings.secret(settings.telegram_bot_token) is None:
        return {}
    return {"telegram": TelegramSender(settings)}
