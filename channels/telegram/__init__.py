"""Telegram bot channel: webhook or long polling, a short conversation, sendMessage acks."""

from typing import Any

from channels.core.spec import ChannelSpec, Enablement
from config.settings import Settings

# Every part imports its module on first use: the Telegram SDK (~23 MB per process) is loaded by
# the HTTP process (webhook parsing, polling) and by a worker only when it sends or fetches files.


def endpoints() -> list[Any]:
    from channels.telegram.inbound import endpoints as make

    return list(make())


def services(ctx: Any) -> list[Any]:
    from channels.telegram.service import services as make

    return list(make(ctx))


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
