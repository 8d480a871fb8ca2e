"""Fixtures of the Meta channel tests: the fake Graph API on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from channels.meta.tests.fake_graph import FakeGraph
from tests.support.fixtures import TOKENS

PAGE = "101010101010101"  # the page of the tests' deliveries; the Instagram user is FakeGraph's default


@pytest.fixture
async def graph() -> AsyncIterator[FakeGraph]:
    g = await FakeGraph(TOKENS["meta_page_token"], PAGE).start()
    yield g
    await g.stop()
