"""Indonesian numbers to E.164 and the operator from the prefix table (``normalizer.phone``)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import phonenumbers
import pytest

from normalizer import phone
from normalizer.phone import parse_msisdn

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("raw", ["081234567890", "6281234567890", "+6281234567890", "006281234567890",
                                 "+62 (0)812-3456-7890", "81234567890", "0812.3456.7890"])
def test_every_indonesian_form_gives_one_e164(raw):
    parsed = parse_msisdn(raw)
    assert (parsed.e164, parsed.operator, parsed.shortcode) == ("+6281234567890", "Telkomsel", False)


@pytest.mark.parametrize(("raw", "ton", "e164"), [
    ("81234567890", 1, "+81234567890"), ("81234567890", 2, "+6281234567890"), ("6281234567890", 1, "+6281234567890"),
])
def test_the_smpp_type_of_number_decides_an_ambiguous_number(raw, ton, e164):
    """International (1): 81… is Japan; national (2): an Indonesian mobile without its 0."""
    assert parse_msisdn(raw, ton=ton).e164 == e164


def test_shortcodes_alphanumerics_and_foreign_numbers():
    assert parse_msisdn("1708") == phone.ParsedNumber(None, None, True, "1708")
    assert parse_msisdn("LAPOR").e164 is None
    assert parse_msisdn("").e164 is None and parse_msisdn(None).raw == ""
    foreign = parse_msisdn("+447911123456")  # a UK mobile: E.164, no Indonesian operator
    assert (foreign.e164, foreign.operator) == ("+447911123456", None)
    assert parse_msisdn("+62 21 5790 5555").operator is None  # a Jakarta landline


def test_a_mobile_prefix_newer_than_the_metadata_is_kept():
    """Operators outpace phonenumbers' metadata: any 628 number of 8 to 13 national digits stands."""
    assert parse_msisdn("0810123456789").e164 == "+62810123456789"


def test_the_table_knows_every_indonesian_prefix_that_phonenumbers_carrier_knows():
    """The prefix table replaced ``phonenumbers.carrier`` (all countries' carriers, ~11 MB per
    process): it must name an operator for every Indonesian mobile prefix the installed library
    knows, the same company (AXIS is XL Axiata's brand since 2014)."""
    from phonenumbers import carrier

    known = 0
    for prefix in range(800, 900):
        number = phonenumbers.parse(f"+62{prefix}12345678")
        theirs = carrier.name_for_number(number, "en")
        if not theirs:
            continue
        known += 1
        ours = parse_msisdn(f"0{prefix}12345678").operator
        assert ours is not None, prefix
        assert ours.split()[0] == {"AXIS": "XL"}.get(theirs, theirs).split()[0], (prefix, ours, theirs)
    assert known >= 30  # the library really answered


def test_parsing_does_not_load_the_carrier_tables():
    code = ("import json, sys; from normalizer.phone import parse_msisdn; "
            "[parse_msisdn(n) for n in ('087912345678', '+447911123456', '0810123456789')]; "
            "print(json.dumps(sorted(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60,
                         check=True)
    loaded = set(json.loads(out.stdout))
    assert "normalizer.phone" in loaded and "phonenumbers" in loaded
    assert not {m for m in loaded if m.startswith("phonenumbers.carrier")}
