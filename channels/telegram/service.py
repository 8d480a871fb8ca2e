"""The Telegram channel's long-running services: long polling, or the webhook monitor."""

from __future__ import annotations

from typing import Any

from channels.core.service import Service
from channels.telegram.modes import monitor_enabled, polling_enabled


def services(ctx: Any) -> list[Service]:
    """The SDK is imported only by a process that runs one of them."""
    if polling_enabled(ctx.settings):
        from channels.telegram.polling import TelegramPoller

        return [TelegramPoller(ctx)]
    if monitor_enabled(ctx.settings):
        from channels.telegram.webhook_info import WebhookMonitor

        return [WebhookMonitor(ctx)]
    return []
