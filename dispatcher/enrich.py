"""Context enrichers: what the dispatcher looks up in Redis before normalizing (the normalizer
itself stays pure). Each enricher is ``async (redis, emit) -> None`` and may fill
``emit.ctx`` (e.g. how often the same sender sent the same text recently)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import redis.asyncio as aioredis

from dispatcher.hooks import Emit

Enricher = Callable[[aioredis.Redis, Emit], Awaitable[None]]


def default_enrichers(settings: Any) -> list[Enricher]:
    return []
