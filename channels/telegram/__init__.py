"""Telegram bot channel: webhook or long polling, a short conversation, sendMessage acks."""

from channels.core.spec import ChannelSpec, Enablement
from channels.telegram.hooks import preprocessors
from channels.telegram.inbound import endpoints
from channels.telegram.send import senders
from channels.telegram.service import services

SPEC = ChannelSpec(
    key="telegram", package=__name__, records=("telegram",), identity_kinds=("telegram",),
    providers=("telegram",), labels={"telegram": "Telegram"},
    enabled_by=(Enablement("telegram", ("telegram_secret",)),),
    endpoints=endpoints, services=services, senders=senders, preprocessors=preprocessors,
)

__all__ = ["SPEC", "endpoints", "preprocessors", "senders", "services"]
