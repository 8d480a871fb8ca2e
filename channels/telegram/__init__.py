"""Telegram bot channel: webhook or long polling, a short conversation, sendMessage acks."""

from typing import Any

from channels.core.spec import ChannelSpec, Enablement
from channels.telegram.inbound import endpoints
from channels.telegram.service import services
from config.settings import Settings


def senders(settings: Settings) -> dict[str, Any]:
    """Imports the Telegram SDK only when a bot token makes the sender usable (memory per process)."""
    if Settings.secret(settings.telegram_bot_token) is None:
        return {}
    from channels.telegram.send import senders as make

    return dict(make(settings))


def preprocessors(settings: Settings) -> list[Any]:
    from channels.telegram.hooks import preprocessors as make  # the worker's conversation step only

    return list(make(settings))

SPEC = ChannelSpec(
    key="telegram", package=__name__, records=("telegram",), identity_kinds=("telegram",),
    providers=("telegram",), labels={"telegram": "Telegram"},
    enabled_by=(Enablement("telegram", ("telegram_secret",)),),
    endpoints=endpoints, services=services, senders=senders, preprocessors=preprocessors,
)

__all__ = ["SPEC", "endpoints", "preprocessors", "senders", "services"]
