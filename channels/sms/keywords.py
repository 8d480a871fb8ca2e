"""``RAHASIA`` / ``ANONIM`` (also ``#rahasia``, ``#anonim``) at the start of an SMS.

They set ``confidential`` / ``anonymous`` and are removed from the body. Several may follow
each other ("ANONIM RAHASIA …"), in any case, separated by spaces or light punctuation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_KEYWORD = re.compile(r"\A[\s.,:;\-]*#?(rahasia|anonim)(?![\w])[\s.,:;\-]*", re.IGNORECASE)

HELP_TEXT = ("LAPOR! SMS 1708: tulis laporan Anda, mis. 'Jalan rusak di Jl. Merdeka 5, Kota Bandung'. "
             "Awali dengan RAHASIA atau ANONIM bila perlu.")


@dataclass(frozen=True)
class Keywords:
    body: str
    confidential: bool
    anonymous: bool


def strip_keywords(text: str) -> Keywords:
    confidential = anonymous = False
    rest = text
    while True:
        m = _KEYWORD.match(rest)
        if not m:
            break
        if m.group(1).lower() == "rahasia":
            confidential = True
        else:
            anonymous = True
        rest = rest[m.end():]
    if not (confidential or anonymous):
        return Keywords(text, False, False)
    return Keywords(rest, confidential, anonymous)


def is_empty(text: str) -> bool:
    return not text.strip()
