"""Fixtures of the two-way tests: the fake Kannel/Jasmin API and a gateway with every worker."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from channels.sms.tests.test_outbound import FakeSmsApi, routes
from tests.twoway.support import OUT_TOKEN, core_worker


@pytest.fixture
async def api() -> AsyncIterator[FakeSmsApi]:
    fake = await FakeSmsApi().start()
    yield fake
    await fake.stop()


@pytest.fixture
async def twoway(make_gateway: Callable[..., Any], api: FakeSmsApi) -> AsyncIterator[Any]:
    """A gateway with the outbound API on, its dispatcher, ack and core-message workers."""
    gw = await make_gateway(outbound_token=OUT_TOKEN, **routes(api))
    await gw.start_worker()
    async with core_worker(gw) as cw:
        gw.core_worker = cw
        yield gw
