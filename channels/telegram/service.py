"""The Telegram channel's long-running services: long polling, or the webhook monitor."""

from __future__ import annotations

from typing import Any

from channels.core.service import Service
from channels.telegram.polling import TelegramPoller, polling_enabled


def services(ctx: Any) -> list[Service]:
    from channels.telegram.webhook_info import WebhookMonitor, monitor_enabled

    out: list[Service] = [TelegramPoller(ctx)] if polling_enabled(ctx.settings) else []
    if not out and monitor_enabled(ctx.settings):
        out.append(WebhookMonitor(ctx))
    return out
