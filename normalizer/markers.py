""""Anonim" / "Rahasia" requests written in the text, taken out of the body.

Citizens who cannot tick the web form's boxes write them: a hashtag (``#anonim``,
``#rahasia``), a bracketed or leading keyword (``[RAHASIA]``, ``ANONIM: ...``) or a sentence
("mohon identitas saya dirahasiakan"). Tags and leading keywords are noise and are removed;
sentences are kept in the body (they are part of what the citizen said) but still set the flag.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_ANON = r"anonim|anonym|anonymous|anonimus|tanpa\s*nama"
_CONF = r"rahasia|dirahasiakan|confidential|private|privat"
# tags anywhere and keywords at the very start or end ("ANONIM bansos...", "... #rahasia")
# "#anonim" (X, Instagram, Facebook) and "/anonim" (a Telegram bot command)
_TAG = re.compile(rf"(?<![\w#/])[#/](?P<w>{_ANON}|{_CONF})\b", re.I)
_BRACKET = re.compile(rf"[\[(](?P<w>{_ANON}|{_CONF})[\])]", re.I)
# a leading keyword needs a separator ("Rahasia: ...") or capitals ("ANONIM ..."); a trailing one capitals,
# so "data ini bukan rahasia" stays a sentence
# SMS keyword style: "ANONIM isi aduan", "RAHASIA#isi aduan", "rahasia: isi aduan"
_LEADING = re.compile(rf"^\s*(?:(?i:(?P<w>{_ANON}|{_CONF}))\s*[:\-#*]|(?P<u>ANONIM|RAHASIA|ANONYMOUS)\b[:.\-,#*]?)\s*")
_TRAILING = re.compile(r"\s*[\-,.]?\s*\b(?P<u>ANONIM|RAHASIA|ANONYMOUS)\s*[.!]?\s*$")
_ANON_SENTENCE = re.compile(
    r"(?:identitas|nama|data\s+diri)\s+(?:saya|kami|pelapor)\s+(?:mohon\s+|tolong\s+|harap\s+)?"
    r"(?:dirahasiakan|disembunyikan|tidak\s+usah\s+disebut|jangan\s+disebut|dirahasiain)|"
    r"(?:jangan|tidak\s+usah|gak\s+usah|ga\s+usah)\s+(?:sebut|cantumkan|tampilkan)\s+nama\s+saya|"
    r"(?:saya\s+)?(?:ingin|mau|minta)\s+(?:lapor\s+)?(?:secara\s+)?anonim",
    re.I)
_CONF_SENTENCE = re.compile(
    r"(?:laporan\s+ini\s+)?(?:mohon|tolong|harap)\s+(?:laporan\s+ini\s+)?(?:dirahasiakan|jangan\s+dipublikasikan|"
    r"tidak\s+dipublikasikan|jangan\s+disebarkan)|(?:jangan|tidak)\s+(?:di)?(?:publikasi|publish|sebar)(?:kan)?",
    re.I)
# Literal pre-checks: a sentence pattern can only match a text holding one of its needles (each
# alternative of the pattern needs one), so most texts skip the ~100 µs searches. ``_FOLD`` maps
# the characters that re.I matches with an ASCII letter but str.lower() does not (İ ı ſ K).
_ANON_NEEDLES = ("dirahasia", "disembunyikan", "sebut", "cantumkan", "tampilkan", "anonim")
_CONF_NEEDLES = ("dirahasiakan", "publikasi", "publish", "sebar")
_FOLD = {0x130: "i", 0x131: "i", 0x17F: "s", 0x212A: "k"}
_ANON_WORD = re.compile(_ANON, re.I)
_HINTS = ("anonim", "anonym", "tanpa", "rahasia", "confidential", "privat", "identitas", "nama", "data diri",
          "publik", "publish", "sebar")
# what a tag/keyword pattern needs: one of its words (``_ANON``/``_CONF``; "tanpa nama" needs both)
_KEYWORDS = ("anonim", "anonym", "rahasia", "confidential", "privat")


@dataclass(frozen=True)
class Markers:
    anonymous: bool
    confidential: bool
    body: str


def _kind(word: str) -> str:
    return "anon" if _ANON_WORD.fullmatch(word) else "conf"


def _may_match(folded: str) -> bool:
    """Whether any pattern can match ``folded`` (the text as the patterns' re.I sees it): a tag or keyword
    needs one of its words, a sentence one of its needles. "nama" alone ("nama saya …", in many
    complaints) is not enough, so those texts skip the substitutions."""
    return (any(map(folded.__contains__, _KEYWORDS)) or ("tanpa" in folded and "nama" in folded)
            or any(map(folded.__contains__, _ANON_NEEDLES)) or any(map(folded.__contains__, _CONF_NEEDLES)))


def extract(body: str) -> Markers:
    """Flags requested in ``body`` and the body without tag/keyword noise."""
    low = body.lower()
    if not any(map(low.__contains__, _HINTS)) or not _may_match(
            low if body.isascii() else body.translate(_FOLD).lower()):
        return Markers(False, False, body)
    found: set[str] = set()

    def drop(m: re.Match[str]) -> str:
        found.add(_kind(m.groupdict().get("w") or m.groupdict().get("u") or ""))
        return " "

    text = _TAG.sub(drop, body) if "#" in body or "/" in body else body  # a tag needs its sign
    text = _BRACKET.sub(drop, text) if "[" in text or "(" in text else text
    text = _LEADING.sub(drop, text, count=1)
    cut = max(0, len(text) - 40)  # a trailing keyword sits in the last few characters
    text = text[:cut] + _TRAILING.sub(drop, text[cut:], count=1)
    folded = text.translate(_FOLD).lower()
    if any(map(folded.__contains__, _ANON_NEEDLES)) and _ANON_SENTENCE.search(text):
        found.add("anon")
    if any(map(folded.__contains__, _CONF_NEEDLES)) and _CONF_SENTENCE.search(text):
        found.add("conf")
    if len(text) != len(body):
        text = re.sub(r"[ \t]{2,}", " ", text).strip()
        text = re.sub(r" +\n|\n +", "\n", text)
    return Markers("anon" in found, "conf" in found, text)
