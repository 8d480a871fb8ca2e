"""What a channel says about itself, once: the ``ChannelSpec`` in its package's ``__init__.py``.

The registry, the settings status report, the dashboard cards, the routes, the services, the
senders and the preprocessors are all read from the specs, so adding a channel is one new
package (plus its settings fields). Record channel and identity names are the contract's: a
test checks that the specs, ``normalizer.models`` and the record schema agree.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from channels.core.inbound import Endpoint
from config.settings import ChannelStatus


@dataclass(frozen=True)
class Enablement:
    """One part of a channel that is on when all ``settings`` fields are set (secrets: non-blank).

    ``name`` is what the status report shows (a channel may have several parts: email's MTA
    endpoint and its IMAP poller are enabled separately).
    """

    name: str
    settings: tuple[str, ...]

    def status(self, settings: Any) -> ChannelStatus:
        missing = [f for f in self.settings if not _is_set(getattr(settings, f))]
        if missing:
            envs = ", ".join("LAPOR_" + f.upper() for f in missing)
            return ChannelStatus(self.name, False, f"disabled: {envs} not set")
        return ChannelStatus(self.name, True, "configured")


def _is_set(value: Any) -> bool:
    if hasattr(value, "get_secret_value"):
        value = value.get_secret_value()
    if isinstance(value, str):
        return bool(value.strip())
    return bool(value)


def _none(*_args: Any) -> list[Any]:
    return []


def _no_senders(_settings: Any) -> dict[str, Any]:
    return {}


@dataclass(frozen=True)
class ChannelSpec:
    """A channel package's self-description.

    ``key`` names the channel for routes' metrics, the channel log and its dashboard card;
    ``records`` are the ``channel`` values its records carry (Meta: facebook and instagram);
    ``labels`` give each record channel's human name, used in record titles.
    """

    key: str
    package: str
    records: tuple[str, ...]
    identity_kinds: tuple[str, ...]
    providers: tuple[str, ...]
    labels: dict[str, str]
    enabled_by: tuple[Enablement, ...]
    endpoints: Callable[[], list[Endpoint]] = _none
    services: Callable[[Any], list[Any]] = _none  # ctx -> long-running pollers/binds
    senders: Callable[[Any], dict[str, Any]] = _no_senders  # settings -> {reply_to.channel: sender}
    preprocessors: Callable[[Any], list[Any]] = _none  # settings -> dispatcher hooks
    metric_sources: tuple[str, ...] = field(default=())  # extra metric channels feeding the card
    openapi: Callable[[], list[Any]] = _none  # -> channels.core.openapi.Operation: APIs for other systems

    @property
    def card_sources(self) -> tuple[str, ...]:
        """Metric channels shown on this channel's card: endpoints count under the key, the
        dispatcher under the record channel."""
        out = [self.key, *self.records, *self.metric_sources]
        return tuple(dict.fromkeys(out))

    def statuses(self, settings: Any) -> list[ChannelStatus]:
        return [e.status(settings) for e in self.enabled_by]
