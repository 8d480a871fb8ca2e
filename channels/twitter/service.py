"""The X channel's long-running service: the mentions poller, when polling is on."""

from __future__ import annotations

from typing import Any

from channels.core.service import Service
from config.settings import Settings


def services(ctx: Any) -> list[Service]:
    """The mentions poller, when polling is on and a bearer token is configured."""
    settings: Settings = ctx.settings
    if not settings.twitter_poll or not Settings.secret(settings.twitter_bearer_token):
        return []
    from channels.twitter.poller import MentionsPoller

    return [MentionsPoller(ctx)]
