"""Webhook registration and its health as Telegram sees it.

``python -m channels.telegram.webhook_info set|delete|show`` registers our endpoint with
``setWebhook`` (the secret token, ``allowed_updates``, never dropping pending updates) or removes
it to switch to long polling. When ``telegram_webhook_url`` is configured, the service below asks
``getWebhookInfo`` periodically and publishes ``pending_update_count`` and Telegram's
``last_error_message`` with the channel's health: a webhook that is not set, points elsewhere or
keeps failing is otherwise invisible from our side (nothing arrives).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import time
from typing import Any

from telegram import Bot
from telegram import error as tg_error

from channels.core.service import PollError, Service
from channels.telegram.api import LazyBot, make_bot
from channels.telegram.updates import ALLOWED_UPDATES
from config.settings import Settings, load_settings
from gateway.logging import scrub


class WebhookProblem(PollError):
    """``getWebhookInfo`` says Telegram cannot deliver to us."""


class WebhookMonitor(Service, LazyBot):
    name = "telegram-webhook"
    channel = "telegram"

    def __init__(self, ctx: Any, bot: Bot | None = None) -> None:
        super().__init__(ctx.redis)
        self.settings: Settings = ctx.settings
        self.interval_s = self.settings.telegram_webhook_check_s
        self._bot = bot

    async def close(self) -> None:
        if self._bot is not None:
            with contextlib.suppress(Exception):
                await self._bot.shutdown()

    async def check_once(self) -> None:
        try:
            info = await self.bot.get_webhook_info()
        except tg_error.InvalidToken as exc:
            raise WebhookProblem(f"bot token rejected: {exc}", "auth") from None
        fields: dict[str, Any] = {
            "pending_update_count": info.pending_update_count,
            "telegram_last_error": scrub(info.last_error_message)[:300] if info.last_error_message else None,
            "telegram_last_error_at": info.last_error_date.timestamp() if info.last_error_date else None,
            "checked_at": time.time(),
        }
        expected = self.settings.telegram_webhook_url
        # a wrong registration is a state to show, not a crash to back off from: keep checking
        if not info.url:
            self.record_error(WebhookProblem("no webhook is set at Telegram: run "
                                             "`python -m channels.telegram.webhook_info set`", "invalid"), "invalid")
            self.set_state("no_webhook", **fields)
        elif expected and info.url != expected:
            self.record_error(WebhookProblem("Telegram delivers to another URL than telegram_webhook_url",
                                             "invalid"), "invalid")
            self.set_state("webhook_elsewhere", **fields)
        else:
            self.set_state("webhook", last_error=None, error_kind=None, **fields)

    async def run_once(self) -> None:
        while not self.stopping:
            await self.check_once()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=self.interval_s)




async def set_webhook(settings: Settings, bot: Bot | None = None) -> bool:
    if not settings.telegram_webhook_url:
        raise SystemExit("LAPOR_TELEGRAM_WEBHOOK_URL is not set")
    secret = Settings.secret(settings.telegram_secret)
    if not secret:
        raise SystemExit("LAPOR_TELEGRAM_SECRET is not set: the webhook would be unauthenticated")
    bot = bot or make_bot(settings)
    return await bot.set_webhook(url=settings.telegram_webhook_url, secret_token=secret,
                                 allowed_updates=ALLOWED_UPDATES, max_connections=40, drop_pending_updates=False)


async def _cli(action: str) -> None:
    settings = load_settings()
    bot = make_bot(settings)
    if action == "set":
        print("setWebhook:", await set_webhook(settings, bot))
    elif action == "delete":
        print("deleteWebhook:", await bot.delete_webhook(drop_pending_updates=False))
    info = await bot.get_webhook_info()
    print(f"url={info.url or '(none)'} pending={info.pending_update_count} "
          f"last_error={scrub(info.last_error_message or '-')}")


def main() -> None:
    ap = argparse.ArgumentParser(description="Register, remove or show the Telegram webhook")
    ap.add_argument("action", choices=("set", "delete", "show"))
    asyncio.run(_cli(ap.parse_args().action))


if __name__ == "__main__":
    main()
