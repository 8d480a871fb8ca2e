"""SMS payload bytes → text, and the concatenation headers (UDH) that may precede them.

Each input names its encoding differently (Kannel ``coding``/``charset``, SMPP/Jasmin
``data_coding``); the adapters map that to one *codec* name so that multipart reassembly can
concatenate the raw bytes of all parts first and decode once (decoding part
by part breaks UCS-2 surrogate pairs and GSM escapes across a cut). Invalid bytes never raise:
they become U+FFFD and the caller flags the message ``decode_error``.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass

import gsm0338  # noqa: F401  (registers the "gsm03.38" codec, extension table included)

# our codec names -> Python codec (binary: UTF-8 when it is UTF-8, else Latin-1, flagged)
GSM = "gsm"
UCS2 = "ucs2"
LATIN1 = "latin1"
ASCII = "ascii"
BINARY = "binary"
KANNEL_TEXT = "kannel-text"
_PY = {GSM: "gsm03.38", UCS2: "utf-16-be", LATIN1: "latin-1", ASCII: "ascii"}

REPLACEMENT = "\ufffd"


@dataclass(frozen=True)
class Decoded:
    text: str
    error: bool  # some bytes could not be decoded (replaced by U+FFFD)


def codec_for_data_coding(dcs: int | None, default_alphabet: str = GSM) -> str:
    """SMPP ``data_coding`` (also Jasmin's ``coding``) → codec name."""
    dcs = dcs or 0
    if dcs == 0:
        return {"gsm": GSM, "latin1": LATIN1, "ascii": ASCII}.get(default_alphabet, GSM)
    if dcs == 1:
        return ASCII
    if dcs == 3:
        return LATIN1
    if dcs == 8:
        return UCS2
    if dcs in (2, 4):
        return BINARY
    if 0xF0 <= dcs <= 0xFF:
        return BINARY if dcs & 0x04 else GSM
    if dcs & 0xC0 == 0:  # general data coding group: bits 3-2 give the alphabet
        return {0: GSM, 1: BINARY, 2: UCS2}.get((dcs >> 2) & 0x03, BINARY)
    return BINARY


def codec_for_kannel(coding: int | None, charset: str | None) -> str:
    """Kannel ``%c`` (0 7-bit, 1 8-bit, 2 UCS-2) and ``%C``: Kannel has already turned a
    7-bit message into ``charset`` text, so the charset wins when Python knows it."""
    if charset:
        name = charset.strip().lower()
        try:
            info = codecs.lookup(name)
        except (LookupError, ValueError):  # unknown charset, or one with a NUL byte in it
            info = None
        if info is not None:
            if info.name in ("utf-16-be", "utf-16"):
                return UCS2
            return "py:" + info.name
    if coding == 2:
        return UCS2
    if coding == 1:
        return BINARY
    return KANNEL_TEXT  # Kannel's internal charset for 7-bit text: UTF-8, older builds WINDOWS-1252


def decode(data: bytes, codec: str) -> Decoded:
    """Decode ``data`` with one of our codec names; never raises."""
    if codec == BINARY:
        try:
            return Decoded(data.decode("utf-8"), False)
        except UnicodeDecodeError:
            return Decoded(data.decode("latin-1"), True)
    if codec == KANNEL_TEXT:
        try:
            return Decoded(data.decode("utf-8"), False)
        except UnicodeDecodeError:
            text = data.decode("cp1252", "replace")
            return Decoded(text, REPLACEMENT in text)
    py = codec[3:] if codec.startswith("py:") else _PY.get(codec, "latin-1")
    try:
        return Decoded(data.decode(py), False)
    except UnicodeDecodeError:
        return Decoded(data.decode(py, "replace"), True)
    except LookupError:
        return Decoded(data.decode("latin-1"), True)


@dataclass(frozen=True)
class Concat:
    ref: int
    total: int
    seq: int


def split_udh(data: bytes) -> tuple[Concat | None, bytes, bool]:
    """Strip a UDH from ``data``: (concatenation info if any, user data, well_formed).

    IEs 0x00 (8-bit ref) and 0x08 (16-bit ref) give the concatenation; unknown IEs are skipped
    by their length. A malformed header leaves the bytes as they are (``well_formed`` False).
    """
    if not data:
        return None, data, False
    udhl = data[0]
    if udhl + 1 > len(data):
        return None, data, False
    header, rest = data[1:udhl + 1], data[udhl + 1:]
    concat: Concat | None = None
    i = 0
    while i + 2 <= len(header):
        iei, iedl = header[i], header[i + 1]
        ie = header[i + 2:i + 2 + iedl]
        if len(ie) != iedl:
            return None, data, False
        if iei == 0x00 and iedl == 3:
            concat = Concat(ie[0], ie[1], ie[2])
        elif iei == 0x08 and iedl == 4:
            concat = Concat((ie[0] << 8) | ie[1], ie[2], ie[3])
        i += 2 + iedl
    if i != len(header):
        return None, data, False
    if concat is not None and not (concat.total >= 1 and 1 <= concat.seq <= concat.total):
        concat = None
    return concat, rest, True


def looks_like_concat_udh(data: bytes) -> bool:
    """A conservative check for inputs that do not say whether a UDH is present (Jasmin)."""
    if len(data) < 7:
        return False
    if data[:3] == b"\x05\x00\x03" or data[:3] == b"\x06\x08\x04":
        concat, _rest, ok = split_udh(data)
        return ok and concat is not None and concat.total > 1
    return False
