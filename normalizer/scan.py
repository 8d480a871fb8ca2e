"""Running a regex only where a match can begin: the same matches as ``finditer``, far fewer tries.

Python's ``re`` tries a pattern that opens with a look-behind, ``\\b`` or a case-insensitive word at
every position of the text. Most of the normalizer's patterns can only begin at a few places (a
run of digits, a cue word), found by a fast scan or ``str.find``; ``finditer_at`` tries ``match``
there only. Look-behinds and ``\\b`` still see the characters before the start, so each try is the
one ``finditer`` would make; starts inside an earlier match are skipped, as ``finditer`` does.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

DIGIT_RUN = re.compile(r"[0-9]+")  # a run of ASCII digits
# the characters that re.I matches with an ASCII letter but str.lower() does not map to one
# (U+0130 also lower-cases to two characters): folding them keeps ``folded`` index for index
_FOLD = {0x130: "i", 0x131: "i", 0x17F: "s", 0x212A: "k"}


def folded(text: str) -> str:
    """``text`` lower-cased, index for index, so that every re.I match of an ASCII word is a ``str.find`` hit."""
    return text.translate(_FOLD).lower() if not text.isascii() else text.lower()


def digit_runs(text: str) -> list[int]:
    """Where each run of ASCII digits begins: where a pattern opening with ``(?<![0-9])[0-9]`` can match."""
    return [m.start() for m in DIGIT_RUN.finditer(text)]


def word_starts(low: str, words: Iterable[str]) -> list[int]:
    """Every position where one of ``words`` occurs in ``low`` (``folded`` text), ascending."""
    out: set[int] = set()
    for word in words:
        i = low.find(word)
        while i >= 0:
            out.add(i)
            i = low.find(word, i + 1)
    return sorted(out)


def finditer_at(rx: re.Pattern[str], text: str, starts: Iterable[int]) -> Iterator[re.Match[str]]:
    """``rx.finditer(text)`` given every position a match of ``rx`` can start at (ascending; more is fine).

    ``rx`` must not match the empty string.
    """
    end = 0
    for s in starts:
        if s < end:
            continue
        m = rx.match(text, s)
        if m is not None:
            yield m
            end = m.end()
