"""Fixtures of the two-way tests: the fake Kannel/Jasmin API and a gateway with every worker."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import redis.asyncio as aioredis

from channels import registry
from channels.sms.tests.test_outbound import FakeSmsApi, routes
from dispatcher.outbound_worker import CoreMessageWorker
from tests.twoway.support import OUT_TOKEN


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
    r = aioredis.Redis.from_url(gw.settings.redis_url)
    cw = CoreMessageWorker(r, gw.settings, registry.senders(gw.settings), "test-core-sender")
    task = asyncio.create_task(cw.run())
    gw.core_worker = cw
    yield gw
    cw.stop()
    with contextlib.suppress(Exception):
        await asyncio.wait_for(task, 5)
    await r.aclose()
