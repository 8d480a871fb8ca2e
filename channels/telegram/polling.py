"""Long polling (``getUpdates``) when no webhook is configured.

The offset is a checkpoint in Redis (``lapor:state:telegram:offset``), written only after
intake has stored the batch in Redis itself (``allow_spool=False``): if Redis is down the poller
backs off without confirming anything to Telegram, which keeps the updates (24 h) and delivers
them again. An update we cannot parse is quarantined, then confirmed. Webhook and polling are
mutually exclusive on Telegram's side: with a webhook set, ``getUpdates`` answers 409 and the
service reports it (it does not delete someone's webhook on its own). Several gateway processes
may run the service; a lease in Redis lets exactly one of them poll, the others stand by.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import warnings
from collections import Counter
from typing import Any

import orjson
from telegram import Bot
from telegram import error as tg_error

from channels.core.ingest import OK
from channels.core.lease import Lease
from channels.core.service import PollError, Service
from channels.telegram.api import make_bot
from channels.telegram.updates import ALLOWED_UPDATES, parse_update
from gateway import keys
from gateway.logging import get_logger
from normalizer.models import InboundMessage

log = get_logger("channels.telegram.polling")

CHANNEL = "telegram"

OFFSET_KEY = keys.state("telegram:offset")
LEADER_KEY = keys.state("telegram:poller")
class TelegramPoller(Service):
    name = "telegram-polling"
    channel = "telegram"

    def __init__(self, ctx: Any, bot: Bot | None = None) -> None:
        super().__init__(ctx.redis)
        self.ctx = ctx
        self.settings = ctx.settings
        self.timeout_s = self.settings.telegram_poll_timeout_s
        self.lease_ms = int((self.timeout_s + 30) * 1000)
        self.lease = Lease(self.redis, LEADER_KEY, self.lease_ms)  # channels.core.lease
        self.standby_s = 5.0
        self._bot = bot

    @property
    def bot(self) -> Bot:
        if self._bot is None:
            self._bot = make_bot(self.settings, poll_timeout_s=self.timeout_s)
        return self._bot

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.lease.release()  # hand over at once
        if self._bot is not None:
            with contextlib.suppress(Exception):
                await self._bot.shutdown()

    async def lead(self) -> bool:
        """Only one gateway process may long-poll a bot (Telegram answers 409 to a second one)."""
        return await self.lease.hold()

    async def run_once(self) -> None:
        while not self.stopping:
            if not await self.lead():
                self.set_state("standby")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), timeout=self.standby_s)
                continue
            await self.poll_once()

    async def poll_once(self) -> int:
        """One getUpdates round: store, then move the checkpoint. Returns the updates handled."""
        raw_offset = await self.redis.get(OFFSET_KEY)
        offset = int(raw_offset) if raw_offset else None
        kwargs: dict[str, Any] = {"timeout": self.timeout_s, "allowed_updates": ALLOWED_UPDATES, "limit": 100}
        if offset is not None:
            kwargs["offset"] = offset
        self.set_state("polling", offset=offset)
        try:
            with warnings.catch_warnings():  # raw JSON on purpose: one parser for webhook and polling
                warnings.simplefilter("ignore")
                updates = await self.bot.do_api_request("getUpdates", api_kwargs=kwargs,
                                                        read_timeout=self.timeout_s + 15)
        except tg_error.Conflict as exc:
            raise PollError(conflict_reason(str(exc)), "invalid") from None
        except tg_error.InvalidToken as exc:
            raise PollError(f"bot token rejected: {exc}", "auth") from None
        if not updates:
            return 0
        t0 = time.perf_counter()
        messages: list[InboundMessage] = []
        skipped: Counter[str] = Counter()
        broken: list[tuple[str, bytes]] = []
        for upd in updates:
            try:
                parsed = parse_update(upd, allow_groups=self.settings.telegram_allow_groups)
            except Exception as exc:
                broken.append((f"{type(exc).__name__}: {exc}", orjson.dumps(upd)))
                continue
            messages.extend(parsed.messages)
            skipped.update(parsed.skipped)
        ingest = self.ctx.ingest
        results = await ingest.store(CHANNEL, messages, allow_spool=False)
        for reason, body in broken:  # before the offset moves: a crash re-polls, never loses them
            await ingest.quarantine(CHANNEL, reason, body, "application/json")
        next_offset = max(int(u["update_id"]) for u in updates) + 1
        await self.redis.set(OFFSET_KEY, next_offset)
        new = sum(1 for a in results if a.status == "new")
        dup = len(results) - new
        ingest.skipped(CHANNEL, skipped)
        ingest.log(CHANNEL, status=OK, started=t0, method="getUpdates", path="polling", stored=new,
                   duplicates=dup, quarantined=len(broken), **{f"skipped_{k}": v for k, v in skipped.items()})
        self.set_state("polling", offset=next_offset, last_batch=len(updates), last_poll_at=time.time())
        log.info("telegram.polled", updates=len(updates), stored=new, duplicates=dup)
        return len(updates)


def conflict_reason(message: str) -> str:
    """Telegram's 409 has two causes that need different fixes: say which one it was."""
    if "webhook" in message.lower():
        return ("getUpdates refused: a webhook is set for this bot (set LAPOR_TELEGRAM_SECRET and "
                "LAPOR_TELEGRAM_WEBHOOK_URL to receive by webhook, or delete the webhook to poll)")
    return ("getUpdates refused: another program polls this bot at the same time (only one may; "
            "a gateway outside this deployment's Redis, or another tool using the token)")
