"""Bytes → text for mail parts whose charset label cannot be trusted.

Outlook labels cp1252 text ``iso-8859-1``, old clients send 8-bit text as ``us-ascii``, and some
labels are unknown to Python. The fallback chain (declared, strict UTF-8, cp1252) recovers the
text in all of those; only when every candidate fails are bytes replaced, and the caller flags
``decode_error`` so a reviewer knows the text is damaged (the raw message is kept).
"""

from __future__ import annotations

import codecs
from email.message import Message

# labels that are routinely wrong: try UTF-8 first, then the cp1252 superset
_WEAK_LABELS = {"us-ascii", "ascii", "iso-8859-1", "iso8859-1", "latin-1", "latin1", "iso-8859-15",
                "windows-1252", "cp1252"}


def _codec(label: str | None) -> str | None:
    if not label:
        return None
    try:
        return codecs.lookup(label.strip().strip('"').lower()).name
    except (LookupError, ValueError):  # unknown label, or one with a NUL byte in it
        return None


def decode_bytes(data: bytes, declared: str | None) -> tuple[str, bool]:
    """Decode ``data``; return (text, replaced) where ``replaced`` means bytes were lost."""
    label = (declared or "").strip().strip('"').lower()
    codec = _codec(label)
    if label in _WEAK_LABELS or codec in {"ascii", "latin-1", "iso8859-15", "cp1252"}:
        chain = ["utf-8", "cp1252"]
    elif codec:
        chain = [codec, "utf-8", "cp1252"]
    else:
        chain = ["utf-8", "cp1252"]
    for name in chain:
        try:
            return data.decode(name), False
        except (UnicodeDecodeError, LookupError):
            continue
    return data.decode(chain[0], "replace"), True


def part_bytes(part: Message) -> bytes:
    """The part's payload with its Content-Transfer-Encoding undone (never raises)."""
    try:
        data = part.get_payload(decode=True)
    except Exception:
        data = None
    if isinstance(data, bytes):
        return data
    payload = part.get_payload()
    if isinstance(payload, str):
        return payload.encode("utf-8", "surrogateescape")
    return b""


def part_text(part: Message) -> tuple[str, bool]:
    """A text part as ``str`` through the fallback chain; HTML is turned into plain text."""
    try:
        charset = part.get_content_charset()
    except Exception:
        charset = None
    text, replaced = decode_bytes(part_bytes(part), charset)
    if part.get_content_type() == "text/html":
        text = html_to_text(text)
    return text, replaced


def html_to_text(html: str) -> str:
    """Readable text of an HTML mail body (block structure kept as line breaks).

    inscriptis and lxml (~6 MB) are imported on the first HTML body, not by every process that
    imports the email channel (each dispatcher worker does, for the channel's spec)."""
    from inscriptis import get_text

    try:
        return get_text(html)
    except Exception:  # inscriptis/lxml on pathological markup: fall back to nothing rather than crash
        return ""
