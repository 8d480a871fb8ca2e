"""The python-telegram-bot ``Bot`` the gateway talks to (sendMessage, getUpdates, getFile).

``telegram_api_url`` is the Bot API root (``https://api.telegram.org`` or, in tests, a local
fake server); methods go to ``<root>/bot<token>/<method>`` and files to
``<root>/file/bot<token>/<path>``, as the Bot API documents.
"""

from __future__ import annotations

from telegram import Bot
from telegram.request import HTTPXRequest

from config.settings import Settings


class TelegramDisabled(RuntimeError):
    """No bot token configured."""


def make_bot(settings: Settings, *, poll_timeout_s: float = 0) -> Bot:
    token = Settings.secret(settings.telegram_bot_token)
    if token is None:
        raise TelegramDisabled("LAPOR_TELEGRAM_BOT_TOKEN is not set")
    root = settings.telegram_api_url.rstrip("/")
    return Bot(
        token,
        base_url=root + "/bot{token}",
        base_file_url=root + "/file/bot{token}",
        request=HTTPXRequest(connection_pool_size=32, connect_timeout=10, read_timeout=20, write_timeout=20),
        get_updates_request=HTTPXRequest(connection_pool_size=1, connect_timeout=10,
                                         read_timeout=poll_timeout_s + 15),
    )


class LazyBot:
    """Mixin: a ``bot`` made from ``settings`` on first use, unless one was given (tests pass a
    bot talking to a fake server). Made lazily so a disabled channel never needs a token."""

    settings: Settings
    _bot: Bot | None

    @property
    def bot(self) -> Bot:
        if self._bot is None:
            self._bot = make_bot(self.settings)
        return self._bot
