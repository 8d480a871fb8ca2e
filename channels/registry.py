"""Where the gateway finds the channels: one list of packages, each declaring ``SPEC``.

Routes, services, senders, preprocessors, the settings status report and the dashboard cards
are all derived from the specs (``channels.core.spec.ChannelSpec``). Adding a channel is adding
its package name here.
"""

from __future__ import annotations

import importlib
from typing import Any

from channels.core.inbound import Endpoint
from channels.core.spec import ChannelSpec
from config.settings import ChannelStatus

CHANNEL_PACKAGES: tuple[str, ...] = (
    "channels.api",
    "channels.sms",
    "channels.meta",
    "channels.twitter",
    "channels.telegram",
    "channels.email",
    "channels.whatsapp",
)


def specs() -> list[ChannelSpec]:
    out = []
    for name in CHANNEL_PACKAGES:
        spec = importlib.import_module(name).SPEC
        if not isinstance(spec, ChannelSpec):
            raise TypeError(f"{name}.SPEC is not a ChannelSpec")
        out.append(spec)
    return out


def endpoints() -> list[Endpoint]:
    return [ep for spec in specs() for ep in spec.endpoints()]


def services(ctx: Any) -> list[Any]:
    return [svc for spec in specs() for svc in spec.services(ctx)]


def senders(settings: Any) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for spec in specs():
        merged.update(spec.senders(settings))
    return merged


def preprocessors(settings: Any) -> list[Any]:
    return [p for spec in specs() for p in spec.preprocessors(settings)]


def openapi_operations() -> list[Any]:
    """The ``channels.core.openapi.Operation``s of channels that serve an API to other systems."""
    return [op for spec in specs() for op in spec.openapi()]


def statuses(settings: Any) -> list[ChannelStatus]:
    """Which channel parts are enabled, and for the disabled ones which ``LAPOR_`` variable is missing."""
    return [st for spec in specs() for st in spec.statuses(settings)]


def cards() -> dict[str, tuple[str, ...]]:
    """Dashboard card (the channel key) -> the metric channels that feed it."""
    return {spec.key: spec.card_sources for spec in specs()}


def status_cards() -> dict[str, str]:
    """Status-report name (``statuses()``) -> its card."""
    return {e.name: spec.key for spec in specs() for e in spec.enabled_by}
