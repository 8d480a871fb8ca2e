"""Fixtures of the WhatsApp channel tests: the fake Cloud API on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from channels.whatsapp.tests.fake_graph import FakeCloudAPI
from tests.support.fixtures import TOKENS


@pytest.fixture
async def api() -> AsyncIterator[FakeCloudAPI]:
    fake = await FakeCloudAPI(TOKENS["whatsapp_token"], TOKENS["whatsapp_phone_number_id"]).start()
    yield fake
    await fake.stop()
