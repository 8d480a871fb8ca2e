"""X (Twitter) @LAPOR1708: Account Activity webhook, mentions poller, thread linking, replies."""

from __future__ import annotations

from typing import Any

from channels.core.spec import ChannelSpec, Enablement
from channels.twitter.inbound import endpoints
from channels.twitter.service import services
from config.settings import Settings


def senders(settings: Settings) -> dict[str, Any]:
    from channels.twitter.send import TwitterSender

    return {"twitter": TwitterSender(settings)}


def preprocessors(settings: Settings) -> list[Any]:
    from channels.twitter.hooks import ThreadLinker

    return [ThreadLinker()]


SPEC = ChannelSpec(
    key="twitter", package=__name__, records=("twitter",), identity_kinds=("twitter",),
    providers=("x-webhook", "x-poll"), labels={"twitter": "X @LAPOR1708"},
    enabled_by=(Enablement("twitter", ("twitter_consumer_secret",)),),
    endpoints=endpoints, services=services, senders=senders, preprocessors=preprocessors,
)

__all__ = ["SPEC", "endpoints", "preprocessors", "senders", "services"]
