"""``RAHASIA`` / ``ANONIM`` (also ``#rahasia``, ``#anonim``) at the start of an SMS.

They set ``confidential`` / ``anonymous`` and are removed from the body. Several may follow
each other ("ANONIM RAHASIA …"), in any case, separated by spaces or light punctuation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# matched at a position (``match(text, pos)``), separators possessive: one pass over the text however
# many keywords or separators it starts with
_KEYWORD = re.compile(r"[\s.,:;\-]*+#?(rahasia|anonim)(?![\w])[\s.,:;\-]*+", re.IGNORECASE)

HELP_TEXT = ("LAPOR! SMS 1708: tulis laporan Anda, mis. 'Jalan rusak di Jl. Merdeka 5, Kota Bandung'. "
             "Awali dengan RAHASIA atau ANONIM bila perlu.")


@dataclass(frozen=True)
class Keywords:
    body: str
    confidential: bool
    anonymous: bool


def strip_keywords(text: str) -> Keywords:
    confidential = anonymous = False
    pos = 0
    while True:
        m = _KEYWORD.match(text, pos)
        if not m or m.end() == pos:
            break
        if m.group(1).lower() == "rahasia":
            confidential = True
        else:
            anonymous = True
        pos = m.end()
    if not (confidential or anonymous):
        return Keywords(text, False, False)
    return Keywords(text[pos:], confidential, anonymous)


def is_empty(text: str) -> bool:
    return not text.strip()
