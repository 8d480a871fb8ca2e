"""Outbound SMS text → SMPP parts: GSM 03.38 when every character fits, else UCS-2.

Own splitter rather than ``smpplib.gsm.make_parts``: smpplib's GSM table maps characters
differently from the ``gsm0338`` codec we decode with, and it cuts an escape pair (``€``, ``{``…)
or a UTF-16 surrogate pair (emoji) in two at a part boundary. Sizes (GSM 03.38 and UCS-2): one
SMS holds 160 GSM septets / 70 UCS-2 units; with the 6-octet 8-bit-reference UDH, 153 / 67.
"""

from __future__ import annotations

from dataclasses import dataclass

import gsm0338  # noqa: F401  (registers "gsm03.38")

DC_GSM = 0x00
DC_UCS2 = 0x08
UDHI = 0x40


@dataclass(frozen=True)
class Encoded:
    data_coding: int
    parts: list[bytes]  # each with its UDH when there are several
    esm_class: int


def _units(text: str) -> tuple[int, list[bytes]]:
    """(data_coding, one encoded unit per character, never splittable)."""
    try:
        if "\x1b" in text:  # the escape itself cannot be sent as text in GSM 03.38
            raise UnicodeEncodeError("gsm03.38", text, 0, 1, "escape")
        return DC_GSM, [c.encode("gsm03.38") for c in text]
    except UnicodeEncodeError:
        return DC_UCS2, [c.encode("utf-16-be") for c in text]


def split(text: str, ref: int) -> Encoded:
    dc, units = _units(text)
    whole = b"".join(units)
    single, per_part = (160, 153) if dc == DC_GSM else (140, 134)
    if len(whole) <= single:
        return Encoded(dc, [whole], 0)
    chunks: list[bytes] = []
    cur = b""
    for u in units:
        if len(cur) + len(u) > per_part:
            chunks.append(cur)
            cur = b""
        cur += u
    if cur:
        chunks.append(cur)
    total = len(chunks)
    if total > 255:
        raise ValueError("text too long for one concatenated SMS")
    parts = [bytes([0x05, 0x00, 0x03, ref & 0xFF, total, i]) + c for i, c in enumerate(chunks, 1)]
    return Encoded(dc, parts, UDHI)


def fits_gsm(text: str) -> bool:
    return _units(text)[0] == DC_GSM


def text_parts(text: str) -> list[str]:
    """``text`` cut where ``split`` cuts it, as strings: one per ``sendsms`` call when we send the
    parts of a long SMS one by one (each with its own UDH and its own delivery report)."""
    dc, units = _units(text)
    single, per_part = (160, 153) if dc == DC_GSM else (140, 134)
    if sum(len(u) for u in units) <= single:
        return [text]
    chunks: list[str] = []
    cur, size = "", 0
    for ch, u in zip(text, units, strict=True):
        if size + len(u) > per_part:
            chunks.append(cur)
            cur, size = "", 0
        cur += ch
        size += len(u)
    if cur:
        chunks.append(cur)
    return chunks


def concat_udh(ref: int, total: int, seq: int) -> bytes:
    """The 8-bit-reference concatenation UDH (IEI 0x00) of part ``seq`` of ``total``."""
    return bytes([0x05, 0x00, 0x03, ref & 0xFF, total, seq])
