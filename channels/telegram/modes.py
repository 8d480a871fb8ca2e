"""Which Telegram service a process runs, decided from the settings alone.

Kept apart from ``polling`` and ``webhook_info`` so that deciding does not load the Telegram
SDK (~23 MB) into processes where the bot is not configured.
"""

from __future__ import annotations

from config.settings import Settings


def polling_enabled(settings: Settings) -> bool:
    if Settings.secret(settings.telegram_bot_token) is None:
        return False
    mode = settings.telegram_polling.lower()
    if mode in ("on", "true", "1", "yes"):
        return True
    if mode in ("off", "false", "0", "no"):
        return False
    return Settings.secret(settings.telegram_secret) is None  # auto: poll when no webhook is set


def monitor_enabled(settings: Settings) -> bool:
    return bool(settings.telegram_webhook_url and Settings.secret(settings.telegram_bot_token)
                and Settings.secret(settings.telegram_secret))
