"""Facebook Page feed, Messenger and Instagram through Meta webhooks (channel key ``meta``).

Records carry channel ``facebook`` or ``instagram``; acknowledgements go out through the Send
API (private replies for public comments); edits and removals are filed by a dispatcher hook.
"""

from __future__ import annotations

from typing import Any

from channels.core.spec import ChannelSpec, Enablement
from channels.meta.graph_fetch import GraphFetcher
from channels.meta.hooks import RevisionHook
from channels.meta.inbound import endpoints
from channels.meta.send import MetaSender
from config.settings import Settings

__all__ = ["SPEC", "endpoints", "preprocessors", "senders"]


def senders(settings: Settings) -> dict[str, Any]:
    """One Send API client answers both channels (a Page token serves Messenger and linked IG)."""
    if Settings.secret(settings.meta_page_token) is None:
        return {}
    api = MetaSender(settings)
    return {"facebook": api, "instagram": api}


def preprocessors(settings: Settings) -> list[Any]:
    """Edits/removals are filed first; mentions and (optionally) media are fetched from Graph."""
    return [RevisionHook(), GraphFetcher(settings)]


SPEC = ChannelSpec(
    key="meta", package=__name__, records=("facebook", "instagram"), identity_kinds=("facebook", "instagram"),
    providers=("meta",), labels={"facebook": "Facebook", "instagram": "Instagram"},
    enabled_by=(Enablement("meta", ("meta_app_secret", "meta_verify_token")),),
    endpoints=endpoints, senders=senders, preprocessors=preprocessors,
)
