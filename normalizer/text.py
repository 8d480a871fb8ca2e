"""Text tidying shared by the normalizer and adapters: Unicode, invisible characters, whitespace."""

from __future__ import annotations

import re
import unicodedata

# zero-width and bidi controls; emoji joiners (ZWJ U+200D, VS16 U+FE0F) are kept so emoji survive
_INVISIBLE = re.compile("[\u200b\u200c\u200e\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\u00ad]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
_BLANK_LINES = re.compile(r"\n{3,}")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")


def tidy(text: str) -> str:
    """NFC, invisible/control characters removed, runs of spaces folded, at most one blank line."""
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = _INVISIBLE.sub("", text)
    text = _CONTROL.sub("", text)
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def cut_at_word(text: str, limit: int) -> str:
    """At most ``limit`` characters, cut at a word boundary, with an ellipsis when cut."""
    text = text.strip()
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space >= limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:-") + "…"


def first_sentence(text: str) -> str:
    for piece in _SENTENCE_END.split(text):
        piece = piece.strip()
        if len(re.sub(r"\W", "", piece)) >= 3:
            return piece
    return text.strip()
