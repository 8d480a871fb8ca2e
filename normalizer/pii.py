"""Personal data masked out of ``public_body``: NIK/KK, phone numbers, emails, bank accounts, plates,
and the reporter's own name and home address (``reporter.py``).

Each detector is a precompiled regex plus a check that keeps dates, money amounts and RT/RW
numbers readable (``Rp 1.500.000``, ``12-05-2024``, ``RT 003/RW 005`` are never masked).
Spans are collected first and replaced once, so detectors never mask each other's labels.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from normalizer import reporter, scan
from normalizer.region import nik_region_valid

MASKS = {"name": "[NAMA]", "address": "[ALAMAT]",
         "nik": "[NIK]", "kk": "[NO. KK]", "id16": "[NOMOR IDENTITAS]", "phone": "[NOMOR TELEPON]",
         "email": "[EMAIL]", "account": "[NOMOR REKENING]", "plate": "[NOMOR POLISI]",
         "npwp": "[NPWP]"}


class Span(NamedTuple):  # a tuple: made several times per message, a third of a frozen dataclass's cost
    start: int
    end: int
    kind: str


# 16+ digits, optionally grouped by spaces/dots/dashes ("3273 0101 8901 0001")
_LONG_DIGITS = re.compile(r"(?<![0-9])[0-9](?:[ .\-]?[0-9]){15,}(?![0-9])")
_NON_DIGIT = re.compile(r"[^0-9]")
_NPWP = re.compile(r"(?<![0-9])[0-9]{2}\.[0-9]{3}\.[0-9]{3}\.[0-9][\-.][0-9]{3}\.[0-9]{3}(?![0-9])")  # 15-digit form
_KK_CUE = re.compile(r"(?:\bkk\b|kartu\s+keluarga|\bno\.?\s*kk\b|nomor\s+kk)[\s.:=\-]*$", re.I)
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.ASCII)
# mobile: +62 / 62 / 0062 / 0 then 8, then 7-11 more digits in groups;  landline: (0xx) xxxx-xxxx
# (?<![0-9][.,]): not the tail of a grouped amount ("Rp 141.020.000.000")
_MOBILE = re.compile(r"(?<![\w+])(?<![0-9][.,])(?:\+62|0062|62|0)[\s.\-]?(?:\(0\)[\s.\-]?)?8[0-9]"
                     r"(?:[\s.\-]?[0-9]){6,10}(?![0-9])")
_LANDLINE = re.compile(r"(?<![\w])(?<![0-9][.,])(?:\+62[\s.\-]?|\(?0)[2-79][0-9]{1,2}\)?[\s.\-]?[0-9]{3,4}"
                       r"[\s.\-]?[0-9]{3,5}(?![0-9])")
_PHONE_CUE = re.compile(r"(?:\b(?:wa|whatsapp|hp|telp|tlp|tel|telepon|telpon|kontak|hub|hubungi|no)\b"
                        r"[\s.:=\-]*)$", re.I)
_BARE_MOBILE = re.compile(r"(?<![0-9])8[1-9][0-9](?:[\s.\-]?[0-9]){6,9}(?![0-9])")
_ACCOUNT = re.compile(
    r"\b(?:no\.?\s*rek(?:ening)?|norek|rek(?:ening)?|bri|bni|bca|mandiri|bsi|btn|cimb(?:\s+niaga)?|danamon|"
    r"permata|bjb|bpd|bank\s+\w+|a\s?[./]?\s?n\.?)\b[^0-9\n]{0,25}?((?:[0-9][\s.\-]?){7,18}[0-9])(?![0-9])", re.I)
# ``_ACCOUNT`` without re.I (its letters are all lower case), for ``scan.folded`` text: folding keeps every
# character's \w/\s/digit class and maps exactly the characters re.I equates with an ASCII letter to it
_ACCOUNT_FOLDED = re.compile(_ACCOUNT.pattern)
_ACCOUNT_HINTS = ("rek", "bank", "bri", "bni", "bca", "mandiri", "bsi", "btn", "cimb", "danamon", "permata", "bjb",
                  "bpd")
# "atas nama" as written in messages: an, a.n., a/n, a n — as a word (a substring test missed "an Budi"
# and fired on every word ending in "-an.")
_ON_BEHALF = re.compile(r"\ba\s?[./]?\s?n\b", re.I)
_MONEY_BEFORE = re.compile(r"(?:rp\.?|idr|rupiah)\s*$", re.I)
_MONEY_AFTER = re.compile(r"^\s*(?:rb|ribu|jt|juta|rupiah|k\b|,-)", re.I)
_PLATE_CODES = {  # Indonesian registration region codes (TNKB)
    "A", "B", "D", "E", "F", "G", "H", "K", "L", "M", "N", "P", "R", "S", "T", "W", "Z", "AA", "AB", "AD", "AE",
    "AG", "BA", "BB", "BD", "BE", "BG", "BH", "BK", "BL", "BM", "BN", "BP", "DA", "DB", "DC", "DD", "DE", "DG",
    "DH", "DK", "DL", "DM", "DN", "DR", "DS", "DT", "EA", "EB", "ED", "KB", "KH", "KT", "KU", "PA", "PB", "PG",
    "PY",
}
_PLATE = re.compile(r"\b([A-Za-z]{1,2})[ \-]?([0-9]{1,4})[ \-]?([A-Za-z]{1,3})\b")
_PLATE_CUE = re.compile(r"(?:plat|plat\s*nomor|nopol|no\.?\s*pol|nomor\s+polisi|kendaraan|motor|mobil|truk|"
                        r"bus|angkot|pelat|tnkb|mobilnya|motornya)\b[^\n]{0,20}$", re.I)


def _valid_nik(d: str) -> bool:
    """NIK layout PPKKSS DDMMYY NNNN: known regency prefix, birth day (women +40), month, serial."""
    if len(d) != 16 or not nik_region_valid(d[:6]) or d[4:6] == "00":
        return False
    day, month = int(d[6:8]), int(d[8:10])
    return (1 <= day <= 31 or 41 <= day <= 71) and 1 <= month <= 12 and d[12:] != "0000"


def _money(text: str, start: int, end: int) -> bool:
    return bool(_MONEY_BEFORE.search(text[max(0, start - 6):start]) or _MONEY_AFTER.match(text[end:end + 8]))


def find_pii(text: str) -> list[Span]:
    """Personal-data spans in ``text`` (non-overlapping, in order).

    Every digit pattern is tried only where it can begin, and only when the text holds enough digits for it
    (a NIK 16, an NPWP 15, a phone 9, an account 8): most messages hold one phone number and a few small numbers.
    """
    spans: list[Span] = []
    runs = [m.span() for m in scan.DIGIT_RUN.finditer(text)]  # where every digit pattern but the plate's begins
    if not runs:
        return spans if "@" not in text else _merge([Span(m.start(), m.end(), "email") for m in _EMAIL.finditer(text)])
    if "@" in text:
        for m in _EMAIL.finditer(text):
            spans.append(Span(m.start(), m.end(), "email"))
    starts = [a for a, _ in runs]
    digits_in_text = sum(b for _, b in runs) - sum(starts)
    if digits_in_text >= 15:
        _long_numbers(text, starts, spans)
    if digits_in_text >= 8:
        low = text.lower()
        # case-sensitive on the folded text: the same matches as re.I on the text, at half the cost
        hinted = any(map(low.__contains__, _ACCOUNT_HINTS)) or _ON_BEHALF.search(text) is not None
        for m in _ACCOUNT_FOLDED.finditer(scan.folded(text)) if hinted else ():
            digits = _NON_DIGIT.sub("", m.group(1))
            if 8 <= len(digits) <= 18 and not _money(text, m.start(1), m.end(1)):
                spans.append(Span(m.start(1), m.end(1), "account"))
    if digits_in_text >= 9:
        _phones(text, starts, spans)
    # a plate's digits are a whole run of at most 4 (after 1-2 letters and at most one separator, before a
    # separator or a letter): it starts 1-3 characters before
    plate_starts = sorted({a - k for a, b in runs if b - a <= 4 for k in (1, 2, 3) if a >= k})
    for m in scan.finditer_at(_PLATE, text, plate_starts):
        if m.group(1).upper() not in _PLATE_CODES:
            continue
        cued = _PLATE_CUE.search(text[max(0, m.start() - 40):m.start()])
        upper = m.group().isupper()
        if cued or (upper and m.group(1) in _PLATE_CODES and len(m.group(1)) + len(m.group(3)) >= 3):
            spans.append(Span(m.start(), m.end(), "plate"))
    return _merge(spans)


def _long_numbers(text: str, starts: list[int], spans: list[Span]) -> None:
    """NPWP (15 digits) and NIK/KK-shaped numbers (16+), starting at digit runs ``starts``."""
    for m in scan.finditer_at(_NPWP, text, starts):
        spans.append(Span(m.start(), m.end(), "npwp"))
    for m in scan.finditer_at(_LONG_DIGITS, text, starts):
        digits = _NON_DIGIT.sub("", m.group())
        has_nik = any(_valid_nik(digits[i:i + 16]) for i in range(len(digits) - 15))
        if not has_nik and _money(text, m.start(), m.end()):
            continue
        before = text[max(0, m.start() - 20):m.start()]
        if len(digits) == 16 and _KK_CUE.search(before):
            kind = "kk"
        elif has_nik:
            kind = "nik"
        else:
            kind = "id16"  # a NIK/KK-shaped number we cannot validate: mask anyway: a false mask costs less than a leak
        spans.append(Span(m.start(), m.end(), kind))


def _phones(text: str, starts: list[int], spans: list[Span]) -> None:
    """Mobile and landline numbers (9+ digits), and a bare mobile after a cue ("wa 812…")."""
    # a mobile begins with "+", "0" or "6" ("+62", "0", "0062", "62"), a landline with "+", "(" or "0", each
    # at the first digit of a run (their look-behinds exclude a digit before)
    signs = scan.word_starts(text, "+(") if "+" in text or "(" in text else []
    mobile_starts = [i for i in starts if text[i] in "06"]
    landline_starts = [i for i in mobile_starts if text[i] == "0"]
    if signs:
        mobile_starts = sorted(mobile_starts + signs)
        landline_starts = sorted(landline_starts + signs)
    for rx, rx_starts in ((_MOBILE, mobile_starts), (_LANDLINE, landline_starts)):
        for m in scan.finditer_at(rx, text, rx_starts):
            digits = _NON_DIGIT.sub("", m.group())
            if 9 <= len(digits) <= 15 and not _money(text, m.start(), m.end()):
                spans.append(Span(m.start(), m.end(), "phone"))
    for m in scan.finditer_at(_BARE_MOBILE, text, [i for i in starts if text[i] == "8"]):
        if _PHONE_CUE.search(text[max(0, m.start() - 16):m.start()]):  # "wa 81234567890": a mobile without its 0
            spans.append(Span(m.start(), m.end(), "phone"))


def _merge(spans: list[Span]) -> list[Span]:
    spans.sort(key=lambda s: (s.start, -(s.end - s.start)))
    out: list[Span] = []
    for s in spans:
        if out and s.start < out[-1].end:
            if s.end > out[-1].end:
                out[-1] = Span(out[-1].start, s.end, out[-1].kind)
            continue
        out.append(s)
    return out


def mask_spans(text: str, names: list[str] | tuple[str, ...] = ()) -> list[Span]:
    """Every span ``mask`` replaces: ``find_pii`` plus the reporter's own name and address."""
    spans = find_pii(text)
    own = reporter.find_reporter(text, names)
    return _merge([*spans, *(Span(a, b, kind) for a, b, kind in own)]) if own else spans


def mask(text: str, names: list[str] | tuple[str, ...] = ()) -> str:
    """``text`` with every personal-data span replaced by its label; ``names``: the reporter's display
    name(s) as the channel gave them, masked wherever they occur."""
    spans = mask_spans(text, names)
    if not spans:
        return text
    parts: list[str] = []
    pos = 0
    for s in spans:
        parts.append(text[pos:s.start])
        parts.append(MASKS[s.kind])
        pos = s.end
    parts.append(text[pos:])
    return "".join(parts)
