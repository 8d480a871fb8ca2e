"""Dispatcher hooks a channel contributes: what its messages need before they become records.

Multipart SMS (hold parts until complete), Telegram conversations and X/email threads (link
follow-ups to the first record), Meta revisions and Graph look-ups plug in here. A preprocessor
may read and write Redis; the commands that must happen atomically with the core enqueue go
into ``Emit.extra``. Its answer for one message is a ``Decision``:

- pass: ``Decision.single(msg)`` — the message becomes a record as it is;
- replace: ``Decision(emit=[Emit(...)])`` — other or merged messages, or a normalizer context
  (follow-up links), become the record(s);
- hold: ``Decision.hold()`` — kept in the preprocessor's state, released later by ``sweep`` or
  by the message that completes it;
- drop: ``Decision.drop(reason)`` — no record on purpose (counted as ``skipped_<reason>``),
  optionally with ``replies`` to the citizen.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import aiohttp
import redis.asyncio as aioredis

from normalizer.context import NormalizeContext
from normalizer.models import InboundMessage


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
        """Pass: the message becomes one record as it is."""
        return cls(emit=[Emit([msg])])

    @classmethod
    def hold(cls) -> Decision:
        """Hold: nothing now; the preprocessor keeps the message and emits it later."""
        return cls()

    @classmethod
    def drop(cls, reason: str, replies: list[Reply] | None = None) -> Decision:
        """Drop: no record on purpose, for ``reason``; the citizen may still get ``replies``."""
        return cls(replies=list(replies or []), skipped=reason)


class Preprocessor(Protocol):
    """A channel's dispatcher hook. Subclass it to inherit the defaults of ``sweep`` and ``prepare_many``."""

    def applies(self, msg: InboundMessage) -> bool: ...

    async def prepare(self, r: aioredis.Redis, msg: InboundMessage) -> Decision: ...

    async def prepare_many(self, r: aioredis.Redis, msgs: list[InboundMessage]) -> list[Decision | Exception]:
        """Decide a batch, in order; a failure is returned in its slot so it holds back only its message.

        Sequential by default (stateful hooks depend on the order); a hook doing network look-ups
        overrides it to run them concurrently.
        """
        return await prepare_each(self, r, msgs)

    async def sweep(self, r: aioredis.Redis) -> list[Emit]:
        """Groups whose time is up (e.g. incomplete multipart SMS); called periodically. None by default."""
        return []


async def prepare_each(pre: Preprocessor, r: aioredis.Redis, msgs: list[InboundMessage]) -> list[Decision | Exception]:
    """``pre.prepare`` for each message in order; a failure is returned in its slot."""
    out: list[Decision | Exception] = []
    for msg in msgs:
        try:
            out.append(await pre.prepare(r, msg))
        except Exception as exc:
            out.append(exc)
    return out


class FetchingPreprocessor(Preprocessor):
    """A hook doing network look-ups: a batch runs concurrently in one HTTP session.

    Subclasses set ``timeout`` and implement ``prepare_in`` for one message; ``limit`` bounds
    the look-ups in flight (at most ``FETCH_CONCURRENCY``). One message is a batch of one.
    """

    FETCH_CONCURRENCY = 8
    timeout: aiohttp.ClientTimeout

    async def prepare_in(self, r: aioredis.Redis, session: aiohttp.ClientSession, limit: asyncio.Semaphore,
                         msg: InboundMessage) -> Decision:
        raise NotImplementedError

    async def prepare(self, r: aioredis.Redis, msg: InboundMessage) -> Decision:
        (decision,) = await self.prepare_many(r, [msg])
        if isinstance(decision, Exception):
            raise decision
        return decision

    async def prepare_many(self, r: aioredis.Redis, msgs: list[InboundMessage]) -> list[Decision | Exception]:
        """Every message of the batch looked up concurrently (bounded); a failure stays in its slot."""
        limit = asyncio.Semaphore(self.FETCH_CONCURRENCY)
        async with aiohttp.ClientSession(timeout=self.timeout) as session:
            done = await asyncio.gather(*(self.prepare_in(r, session, limit, m) for m in msgs),
                                        return_exceptions=True)
        out: list[Decision | Exception] = []
        for d in done:
            if isinstance(d, BaseException) and not isinstance(d, Exception):
                raise d  # cancellation: not the message's fault
            out.append(d)
        return out
