"""Fixtures of the X channel tests: the fake X API on loopback and settings pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from channels.twitter.tests.fakex import Creds, FakeX
from tests.support.peers import running


@pytest.fixture
async def fakex() -> AsyncIterator[FakeX]:
    async with running(FakeX()) as fx:
        yield fx


def x_settings(fx: FakeX, **overrides: Any) -> dict[str, Any]:
    """Overrides for ``make_settings``/``make_gateway``: the API at the fake, user-context keys set."""
    c: Creds = fx.creds
    values: dict[str, Any] = dict(
        twitter_api_url=fx.url, twitter_bearer_token=c.bearer, twitter_consumer_key=c.consumer_key,
        twitter_consumer_secret=c.consumer_secret, twitter_access_token=c.access_token,
        twitter_access_token_secret=c.access_token_secret, twitter_poll=False, twitter_poll_interval_s=0.2,
        twitter_backfill_s=0)  # the fixtures' tweets are from 2025
    values.update(overrides)
    return values
