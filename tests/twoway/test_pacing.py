"""``LAPOR_OUTBOUND_RATES``: parsed strictly, one bucket per listed channel, unlisted channels unpaced.
Counted capacity, not wall-clock: a bucket of rate r holds r sends, then has no room."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from config.settings import Settings, parse_rates
from dispatcher.pacing import ChannelPace


def test_rates_are_parsed_and_bad_ones_refused() -> None:
    assert parse_rates("sms=50, email=10,twitter=0.5") == {"sms": 50.0, "email": 10.0, "twitter": 0.5}
    assert parse_rates("") == {}
    for bad in ("sms", "sms=0", "sms=-1", "=3", "sms=fast"):
        with pytest.raises(ValueError):
            parse_rates(bad)
    with pytest.raises(ValidationError):
        Settings(outbound_rates="sms=fast")


async def test_each_channel_has_its_own_bucket() -> None:
    pace = ChannelPace(Settings(outbound_rates="sms=3,twitter=0.5"))
    assert pace.limiter("telegram") is None  # not listed: not paced
    await pace.wait("telegram")
    sms = pace.limiter("sms")
    assert sms is not None and pace.limiter("sms") is sms
    for _ in range(3):
        assert sms.has_capacity()
        await pace.wait("sms")
    assert not sms.has_capacity()  # a fourth send this second would wait
    x = pace.limiter("twitter")
    assert x is not None and x.has_capacity()
    await pace.wait("twitter")
    assert not x.has_capacity()  # 0.5/s: one send per two seconds
