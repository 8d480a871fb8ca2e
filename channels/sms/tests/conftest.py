"""SMS test fixtures: the SMSC simulator and a gateway bound to it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from channels.sms.tests.smsc import Smsc
from tests.support.peers import running


@pytest.fixture
async def smsc() -> AsyncIterator[Smsc]:
    async with running(Smsc()) as sim:
        yield sim


def smpp_settings(sim: Smsc, **extra: Any) -> dict[str, Any]:
    return dict(smpp_host="127.0.0.1", smpp_port=sim.port, smpp_system_id="lapor", smpp_password="secret",
                smpp_bind_mode="transceiver", **extra)


@pytest.fixture
async def smpp_gateway(make_gateway: Callable[..., Awaitable[Any]], smsc: Smsc) -> Any:
    gw = await make_gateway(**smpp_settings(smsc))
    await smsc.wait_bound()
    return gw


async def eventually(check: Callable[[], Awaitable[Any]], timeout: float = 20, every: float = 0.05) -> Any:
    """Poll ``check`` until it returns something truthy (generous timeout: shared machine)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await check()
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {timeout}s (last value {value!r})")
        await asyncio.sleep(every)
