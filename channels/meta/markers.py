"""Citizen markers in the text: ``#rahasia`` (confidential) and ``#anonim`` (anonymous).

On Facebook and Instagram there is no form with the two LAPOR! checkboxes, so a citizen asks
for them in the text itself. The markers are instructions, not content: they are removed from
the cleaned body and kept as booleans (the original text keeps them).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_CONFIDENTIAL = ("rahasia", "confidential")
_ANONYMOUS = ("anonim", "anonymous")
_MARKER = re.compile(r"(?<![\w#])#(" + "|".join(_CONFIDENTIAL + _ANONYMOUS) + r")\b", re.IGNORECASE)


@dataclass(frozen=True)
class Markers:
    confidential: bool
    anonymous: bool
    body: str | None  # the text without the markers; None when there was none to remove


def scan(text: str) -> Markers:
    found = {m.group(1).lower() for m in _MARKER.finditer(text)}
    if not found:
        return Markers(False, False, None)
    body = re.sub(r"[ \t]{2,}", " ", _MARKER.sub("", text)).strip()
    return Markers(bool(found & set(_CONFIDENTIAL)), bool(found & set(_ANONYMOUS)), body)
