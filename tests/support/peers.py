"""Start/stop of the local protocol peers and fake provider servers the fixtures hand to tests."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Protocol, Self, TypeVar


class Peer(Protocol):
    async def start(self) -> Self: ...

    async def stop(self) -> None: ...


P = TypeVar("P", bound=Peer)


@contextlib.asynccontextmanager
async def running(peer: P) -> AsyncIterator[P]:
    """``peer`` started for the block and stopped after it, also when the test fails."""
    await peer.start()
    try:
        yield peer
    finally:
        await peer.stop()
