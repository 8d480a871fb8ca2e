"""Extension point for channels whose messages need state before they become records.

Multipart SMS (hold parts until complete), Telegram conversations and X threads (link
follow-ups to the first record) plug in here. A preprocessor may read and write Redis; the
commands that must happen atomically with the core enqueue go into ``Emit.extra``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import redis.asyncio as aioredis

from normalizer.models import InboundMessage
from normalizer.normalize import NormalizeContext


@dataclass
class Emit:
    """Messages that become one record (the first one gives the record id)."""

    messages: list[InboundMessage]
    ctx: NormalizeContext = field(default_factory=NormalizeContext)
    extra: list[Callable[[Any], None]] = field(default_factory=list)


@dataclass
class Reply:
    """A message to a citizen that is not an acknowledgement of a record (help text, …)."""

    channel: str
    address: str
    text: str
    provider: str | None = None
    thread: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass
class Decision:
    emit: list[Emit] = field(default_factory=list)
    replies: list[Reply] = field(default_factory=list)
    skipped: str | None = None  # reason when the message produces no record on purpose

    @classmethod
    def single(cls, msg: InboundMessage) -> Decision:
        return cls(emit=[Emit([msg])])


class Preprocessor(Protocol):
    def applies(self, msg: InboundMessage) -> bool: ...

    async def prepare(self, r: aioredis.Redis, msg: InboundMessage) -> Decision: ...

    async def sweep(self, r: aioredis.Redis) -> list[Emit]:
        """Groups whose time is up (e.g. incomplete multipart SMS); called periodically."""
        ...
