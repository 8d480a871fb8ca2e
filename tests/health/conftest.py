"""Fixtures of the health tests: fake alert sinks (webhook, Telegram, SMTP) on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from gateway import metrics
from tests.health.sinks import FakeSink
from tests.support.redis_proc import free_port


@pytest.fixture(autouse=True)
def _clean_metric_buffer() -> Iterator[None]:
    """Counts buffered by an earlier test must not land in this test's (flushed) Redis."""
    metrics._buf = metrics._Buffer()
    yield
    metrics._buf = metrics._Buffer()


@pytest.fixture
async def sink() -> AsyncIterator[FakeSink]:
    s = await FakeSink().start()
    yield s
    await s.stop()


class _Mailbox:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # aiosmtpd calls it by this name
        self.messages.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[str, _Mailbox]]:
    box = _Mailbox()
    port = free_port()
    ctl = Controller(box, hostname="127.0.0.1", port=port)
    ctl.start()
    yield f"smtp://127.0.0.1:{port}", box
    ctl.stop()
