"""Indonesian phone numbers to E.164, with the mobile operator when the prefix tells it.

The operator comes from our own prefix table, not ``phonenumbers.carrier``: that module loads the
carrier names of every country (~11 MB in each process) to answer for 38 Indonesian prefixes,
all of which the table below holds (``tests/normalizer/test_phone.py`` checks it against the
installed phonenumbers).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import phonenumbers

_STRIP = re.compile(r"[\s\-.()/]")

# operator prefixes (informational only: used for display, never to validate)
_OPERATORS: dict[str, str] = {}
for _name, _prefixes in {
    "Telkomsel": ["811", "812", "813", "821", "822", "823", "851", "852", "853"],
    "Indosat Ooredoo Hutchison": ["814", "815", "816", "855", "856", "857", "858", "895", "896", "897",
                                  "898", "899"],
    "XL Axiata": ["817", "818", "819", "859", "877", "878", "879", "831", "832", "833", "838"],  # AXIS: 83x
    "Smartfren": ["881", "882", "883", "884", "885", "886", "887", "888", "889"],
}.items():
    for _p in _prefixes:
        _OPERATORS[_p] = _name


@dataclass(frozen=True)
class ParsedNumber:
    e164: str | None
    operator: str | None
    shortcode: bool
    raw: str


def is_shortcode(raw: str) -> bool:
    digits = _STRIP.sub("", raw)
    return digits.isdigit() and len(digits) <= 6


@lru_cache(maxsize=2048)  # repeat senders; every complaint text brings new numbers, so keep it small
def parse_msisdn(raw: str | None, *, ton: int | None = None) -> ParsedNumber:
    """Normalize the Indonesian forms (08…, 628…, +628…, 0062…, +62 (0)8…) to E.164.

    ``ton`` is the SMPP type of number when known: 1 international, 2 national.
    Shortcodes and alphanumeric senders are returned unnormalized (``e164`` None).
    """
    raw = (raw or "").strip()
    if not raw:
        return ParsedNumber(None, None, False, raw)
    s = _STRIP.sub("", raw)
    if is_shortcode(s):
        return ParsedNumber(None, None, True, raw)
    if s.startswith("+"):
        s = s[1:]
    elif s.startswith("00"):
        s = s[2:]
    elif ton == 2 or s.startswith("0"):
        s = "62" + s.lstrip("0")
    elif ton != 1 and s.startswith("8") and 9 <= len(s) <= 12:
        s = "62" + s  # a national mobile number written without its 0
    if s.startswith("620"):
        s = "62" + s[3:]  # +62 (0)812…
    if not s.isdigit():
        return ParsedNumber(None, None, False, raw)
    if s.startswith("628") and 8 <= len(s) - 2 <= 13 and s[2:5] in _OPERATORS:
        return ParsedNumber("+" + s, _OPERATORS[s[2:5]], False, raw)  # fast path: same answer as below
    try:
        num = phonenumbers.parse("+" + s, None)
    except phonenumbers.NumberParseException:
        return ParsedNumber(None, None, False, raw)
    if not phonenumbers.is_possible_number(num):
        # be lenient with Indonesian mobiles (8-13 digits after 62): operators outpace metadata
        nsn = s[2:]
        if not (s.startswith("628") and 8 <= len(nsn) <= 13):
            return ParsedNumber(None, None, False, raw)
    e164 = "+" + s
    operator = _OPERATORS.get(s[2:5]) if s.startswith("628") else None
    return ParsedNumber(e164, operator, False, raw)
