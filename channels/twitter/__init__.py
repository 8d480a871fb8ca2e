"""X (Twitter) @LAPOR1708: Account Activity webhook, mentions poller, thread linking, replies."""

from __future__ import annotations

from typing import Any

from channels.base import Endpoint
from channels.twitter.webhook import endpoints as _webhook_endpoints
from config.settings import Settings


def endpoints() -> list[Endpoint]:
    return _webhook_endpoints()


def services(ctx: Any) -> list[Any]:
    """The mentions poller, when polling is on and a bearer token is configured."""
    settings: Settings = ctx.settings
    if not settings.twitter_poll or not Settings.secret(settings.twitter_bearer_token):
        return []
    from channels.twitter.poller import MentionsPoller

    return [MentionsPoller(ctx)]


def senders(settings: Settings) -> dict[str, Any]:
    from channels.twitter.send import TwitterSender

    return {"twitter": TwitterSender(settings)}


def preprocessors(settings: Settings) -> list[Any]:
    from channels.twitter.hooks import ThreadLinker

    return [ThreadLinker()]
