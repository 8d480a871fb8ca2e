"""Hypothesis: any text gives a contract-valid record; masking never leaves a NIK in public_body."""

from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from normalizer.contract import validate_record
from normalizer.models import GeoPoint
from normalizer.normalize import normalize
from normalizer.pii import _valid_nik, mask
from normalizer.region import DISTRICTS
from tests.normalizer.helpers import msg
from tests.support.core import assert_valid

_DISTRICT_CODES = sorted(c.replace(".", "") for c in DISTRICTS)
_SIXTEEN = re.compile(r"(?<![0-9])[0-9]{16}(?![0-9])")
_ANY16 = re.compile(r"(?=([0-9]{16}))")

# realistic fragments mixed with arbitrary Unicode, so the rules actually fire
_FRAGMENTS = st.sampled_from([
    "jalan rusak", " di kec. coblong kota bandung", "#anonim", "RAHASIA:", " hub 0812-3456-7890 ",
    " Rp 1.500.000 ", "RT 03/RW 05", "gmn cara", "usul", " plat B 1234 XYZ ", "@LAPOR1708", "\u200b", "🙏🏽",
    "\r\n", "?", "ANONIM", " pdam ", " kab ", " kota ", "...", "a@b.id", "62", "0", "kec.",
])
_TEXT = st.lists(st.one_of(st.text(max_size=40), _FRAGMENTS), max_size=12).map("".join)


@st.composite
def niks(draw: st.DrawFn) -> str:
    prefix = draw(st.sampled_from(_DISTRICT_CODES))
    day = draw(st.integers(1, 31)) + draw(st.sampled_from([0, 40]))
    month = draw(st.integers(1, 12))
    year = draw(st.integers(0, 99))
    serial = draw(st.integers(1, 9999))
    return f"{prefix}{day:02d}{month:02d}{year:02d}{serial:04d}"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=_TEXT, channel=st.sampled_from(["sms", "twitter", "telegram", "email", "api"]),
       title=st.one_of(st.none(), st.text(max_size=200)), located=st.booleans())
def test_any_text_gives_a_valid_record(text, channel, title, located):
    location = GeoPoint(lat=-6.2, lon=106.8, text=text[:30]) if located else None
    rec = normalize([msg(text, channel=channel, title=title, location=location)])
    d = rec.to_json_dict()
    validate_record(d)
    assert_valid(d)
    assert 1 <= len(d["title"]) <= 100
    assert d["original_text"] == text


@settings(max_examples=400, deadline=None)
@given(before=_TEXT, nik=niks(), after=_TEXT, sep=st.sampled_from(["", " ", ":", "\n", "NIK", "-", ".", "0", "9"]))
def test_masking_never_leaves_a_nik(before, nik, after, sep):
    assert _valid_nik(nik)
    text = f"{before}{sep}{nik}{sep}{after}"
    public = normalize([msg(text)]).public_body
    assert nik not in public
    for m in _ANY16.finditer(public):
        assert not _valid_nik(m.group(1)), public
    assert nik not in mask(text)


@settings(max_examples=200, deadline=None)
@given(nik=niks(), groups=st.sampled_from([(4, 4, 4, 4), (6, 6, 4), (2, 2, 2, 6, 4)]),
       sep=st.sampled_from([" ", ".", "-"]))
def test_grouped_nik_is_masked(nik, groups, sep):
    parts, pos = [], 0
    for g in groups:
        parts.append(nik[pos:pos + g])
        pos += g
    written = sep.join(parts)
    public = mask(f"NIK saya {written} mohon dibantu")
    assert not _SIXTEEN.search(re.sub(r"[ .\-]", "", public))
    assert written not in public


@st.composite
def harmless_numbers(draw: st.DrawFn) -> str:
    """Dates, money amounts, RT/RW and times: what masking must leave readable."""
    d, m, y = draw(st.integers(1, 31)), draw(st.integers(1, 12)), draw(st.integers(1990, 2030))
    amount = draw(st.integers(1, 999_999_999_999))
    grouped = f"{amount:,}".replace(",", ".")
    return draw(st.sampled_from([
        f"{d:02d}-{m:02d}-{y}", f"{d}/{m}/{y}", f"{d:02d}.{m:02d}.{y}", f"Rp {grouped}", f"Rp{grouped},-",
        f"{grouped} rupiah", f"RT {d:03d}/RW {m:03d}", f"RT {d:02d} RW {m:02d}", f"jam {m:02d}.{d % 60:02d}",
        f"tahun {y}", f"{amount % 1000} ribu", f"{amount % 100} juta",
    ]))


@settings(max_examples=300, deadline=None)
@given(value=harmless_numbers(), before=st.sampled_from(["", "sejak ", "biaya ", "di ", "tgl "]),
       after=st.sampled_from(["", " sudah", ".", " pak"]))
def test_dates_money_and_rt_rw_are_never_masked(value, before, after):
    text = f"{before}{value}{after}"
    assert mask(text) == text
