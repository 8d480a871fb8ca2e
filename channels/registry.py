"""Where the gateway finds the channel adapters.

Each channel package may expose, at module level:

- ``endpoints() -> list[Endpoint]``: HTTP routes (webhooks, callbacks);
- ``services(ctx) -> list[Service]``: long-running pollers/binds started by ``serve``;
- ``senders(settings) -> dict[str, AckSender]``: outbound senders keyed by ``reply_to.channel``;
- ``preprocessors(settings) -> list[Preprocessor]``: dispatcher hooks (reassembly, threads).
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

CHANNEL_PACKAGES = (
    "channels.http",
    "channels.sms",
    "channels.meta",
    "channels.twitter",
    "channels.telegram",
    "channels.email",
)


def modules() -> list[ModuleType]:
    out = []
    for name in CHANNEL_PACKAGES:
        try:
            out.append(importlib.import_module(name))
        except ModuleNotFoundError as exc:
            if exc.name != name:  # a real missing dependency inside the channel: fail loudly
                raise
    return out


def collect(attr: str, *args: Any) -> list[Any]:
    """Call ``attr(*args)`` on every channel module that has it; flatten lists, keep dicts."""
    out: list[Any] = []
    for mod in modules():
        fn = getattr(mod, attr, None)
        if fn is None:
            continue
        value = fn(*args)
        if isinstance(value, dict):
            out.append(value)
        else:
            out.extend(value)
    return out


def endpoints() -> list[Any]:
    return collect("endpoints")


def senders(settings: Any) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for d in collect("senders", settings):
        merged.update(d)
    return merged


def preprocessors(settings: Any) -> list[Any]:
    return collect("preprocessors", settings)


def services(ctx: Any) -> list[Any]:
    return collect("services", ctx)
