"""Dates in forward header blocks, as mail clients render them for people.

Gmail "Sun, Nov 23, 2025 at 7:45 PM", Gmail (id) "Sen, 24 Nov 2025 pukul 21.10", Outlook
"Wednesday, November 26, 2025 1:15 PM", Outlook (id) "Rabu, 26 November 2025 20:41", Apple Mail
"27 November 2025 at 16:02:10 GMT+7", Thunderbird keeps RFC 5322. Clients render in the
forwarder's local time zone, so a date without an offset takes the offset of the forward's own
``Date:`` header. Unparseable → None (the text stays in ``meta.forward_chain``).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone, tzinfo
from email.utils import parsedate_to_datetime

_ID_WORDS = {
    "senin": "Mon", "selasa": "Tue", "rabu": "Wed", "kamis": "Thu", "jumat": "Fri", "jum'at": "Fri",
    "sabtu": "Sat", "minggu": "Sun", "sen": "Mon", "sel": "Tue", "rab": "Wed", "kam": "Thu", "jum": "Fri",
    "sab": "Sat", "min": "Sun",
    "januari": "Jan", "februari": "Feb", "maret": "Mar", "april": "Apr", "mei": "May", "juni": "Jun",
    "juli": "Jul", "agustus": "Aug", "september": "Sep", "oktober": "Oct", "november": "Nov",
    "desember": "Dec", "agu": "Aug", "agt": "Aug", "okt": "Oct", "des": "Dec",
}
_WORD = re.compile(r"[A-Za-z']+")
_GMT = re.compile(r"\s*+(GMT|UTC)\s*+([+-])(\d{1,2})(?::?(\d{2}))?\s*$", re.I)
_AT = re.compile(r"\s++(?:at|pukul|jam)\s++", re.I)
_DOT_TIME = re.compile(r"(\d{1,2})\.(\d{2})(?=\D*+$)")
_FORMATS = (
    "%a, %b %d, %Y %I:%M %p", "%A, %B %d, %Y %I:%M %p", "%A, %b %d, %Y %I:%M %p",
    "%a, %d %b %Y %H:%M", "%A, %d %B %Y %H:%M",
    "%a, %d %b %Y %H:%M:%S", "%d %b %Y %H:%M:%S", "%d %B %Y %H:%M:%S", "%d %b %Y %H:%M", "%d %B %Y %H:%M",
    "%B %d, %Y %I:%M:%S %p", "%B %d, %Y %I:%M %p",
)


def _english(text: str) -> str:
    return _WORD.sub(lambda m: _ID_WORDS.get(m.group(0).lower(), m.group(0)), text)


MAX_DATE_CHARS = 120  # the longest rendered date is ~60 characters; nothing past this is read


def loose_date(value: str | None, default_tz: tzinfo | None) -> datetime | None:
    """The datetime a client rendered in ``value``, or None.

    Whitespace runs are folded and the text cut to ``MAX_DATE_CHARS`` before any pattern sees it,
    so the patterns below work on a bounded string whatever the forward header holds.
    """
    if not value:
        return None
    text = " ".join(value[:MAX_DATE_CHARS * 64].split())[:MAX_DATE_CHARS]
    if not text:
        return None
    try:
        dt = parsedate_to_datetime(text)
        if dt.tzinfo is not None:
            return dt
    except (TypeError, ValueError, IndexError):
        pass
    tz = default_tz
    m = _GMT.search(text)
    if m:
        minutes = int(m.group(3)) * 60 + int(m.group(4) or 0)
        tz = timezone(timedelta(minutes=minutes if m.group(2) == "+" else -minutes))
        text = text[:m.start()]
    text = _english(text)
    text = _AT.sub(" ", text)
    text = _DOT_TIME.sub(r"\1:\2", text)  # 21.10 -> 21:10
    text = " ".join(text.split())
    if tz is None:
        return None
    for fmt in _FORMATS:
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=tz)
        except ValueError:
            continue
    return None
