"""Dates of forward header blocks as clients render them (English and Indonesian)."""

from __future__ import annotations

from datetime import timedelta, timezone

import pytest

from channels.email.dates import loose_date

WIB = timezone(timedelta(hours=7))


@pytest.mark.parametrize(("text", "iso"), [
    ("Sun, Nov 23, 2025 at 7:45 PM", "2025-11-23T19:45:00+07:00"),  # Gmail
    ("Sen, 24 Nov 2025 pukul 21.10", "2025-11-24T21:10:00+07:00"),  # Gmail (id)
    ("Wednesday, November 26, 2025 1:15 PM", "2025-11-26T13:15:00+07:00"),  # Outlook
    ("Rabu, 26 November 2025 20:41", "2025-11-26T20:41:00+07:00"),  # Outlook (id)
    ("27 November 2025 at 16:02:10 GMT+8", "2025-11-27T16:02:10+08:00"),  # Apple Mail, own offset wins
    ("Fri, 28 Nov 2025 18:40:02 +0900", "2025-11-28T18:40:02+09:00"),  # Thunderbird: RFC 5322
    ("Jumat, 5 Desember 2025 pukul 08.05", "2025-12-05T08:05:00+07:00"),
])
def test_client_dates(text, iso):
    dt = loose_date(text, WIB)
    assert dt is not None and dt.isoformat() == iso


@pytest.mark.parametrize("text", ["", "kemarin sore", "32 Nov 2025 10:00"])
def test_unparseable_is_none(text):
    assert loose_date(text, WIB) is None


def test_no_zone_known_is_none():
    assert loose_date("Sun, Nov 23, 2025 at 7:45 PM", None) is None
