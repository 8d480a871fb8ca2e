"""Forwarded mail inside a body: Gmail, Outlook, Apple Mail, Thunderbird, English and Indonesian.

An agency forwards the citizen's mail; the citizen is the ``From:`` of the innermost forward
header block, the text below that block is the complaint, and whatever the agency wrote above
the first marker is a cover note (kept apart, never the complaint).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from email.utils import parseaddr

_MARKER = re.compile(
    r"^\s*(-{2,}\s*(forwarded message|original message|pesan terusan|pesan yang diteruskan|pesan asli)\s*-{2,}"
    r"|begin forwarded message\s*:|awal pesan yang diteruskan\s*:|_{10,})\s*$",
    re.I,
)
_LABELS = {
    "from": "from", "dari": "from",
    "date": "date", "sent": "date", "tanggal": "date", "dikirim": "date", "terkirim": "date", "waktu": "date",
    "to": "to", "kepada": "to", "untuk": "to",
    "cc": "cc",
    "subject": "subject", "subjek": "subject", "perihal": "subject", "hal": "subject",
    "reply-to": "reply_to", "balas-ke": "reply_to",
}
_LABEL_LINE = re.compile(r"^\*?([A-Za-z][A-Za-z-]{0,14})\*?\s*:\*?\s*(.*)$")
_MAILTO = re.compile(r"\[mailto:([^\]]+)\]", re.I)
_UNQUOTE = re.compile(r"^\s?>\s?")
MAX_LABEL_LINE_CHARS = 4096  # a header line of a forward block; the rest of a longer line is not read


@dataclass
class ForwardBlock:
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def from_name(self) -> str | None:
        return self._addr()[0] or None

    @property
    def from_email(self) -> str | None:
        addr = self._addr()[1]
        return addr.lower() if addr and "@" in addr else None

    def _addr(self) -> tuple[str, str]:
        value = self.headers.get("from", "")
        m = _MAILTO.search(value)  # Outlook: "Name [mailto:addr]"
        if m:
            return value[:m.start()].strip().strip('"'), m.group(1).strip()
        name, addr = parseaddr(value.replace("&lt;", "<").replace("&gt;", ">"))
        return name.strip('*" '), addr


@dataclass
class Forward:
    cover_note: str
    chain: list[ForwardBlock]  # outermost first
    body: str  # the innermost forwarded text

    @property
    def original(self) -> ForwardBlock:
        return self.chain[-1]


MAX_CHAIN = 32  # forwards of forwards deeper than this are not a mail client's work: the rest stays body
MAX_MARKER_CHARS = 200  # a marker line is short; longer lines are never tested against the pattern


def _is_marker(line: str) -> bool:
    return len(line) <= MAX_MARKER_CHARS and _MARKER.match(line.lstrip("> ")) is not None


def _is_quoted(line: str) -> bool:
    return line.lstrip().startswith(">")


def _unquote_line(line: str) -> str:
    return _UNQUOTE.sub("", line, count=1)


class _Suffixes:
    """For every position of ``lines``: does the majority rule of Apple Mail quoting hold for the
    lines after it? Computed once per chain level (one pass), so each marker costs O(1) to decide."""

    def __init__(self, lines: list[str]) -> None:
        n = len(lines)
        self.nonblank = [0] * (n + 1)
        self.quoted = [0] * (n + 1)
        for i in range(n - 1, -1, -1):
            line = lines[i]
            blank = not line.strip()
            self.nonblank[i] = self.nonblank[i + 1] + (0 if blank else 1)
            self.quoted[i] = self.quoted[i + 1] + (1 if not blank and _is_quoted(line) else 0)

    def quoted_from(self, i: int) -> bool:
        """Apple Mail quotes the whole forward with ``> ``: one level goes when most lines carry it."""
        nonblank = self.nonblank[i]
        return nonblank > 0 and self.quoted[i] >= 0.6 * nonblank


def _header_block(lines: list[str], start: int, unquote: bool) -> tuple[ForwardBlock, int] | None:
    """Parse ``Label: value`` lines from ``lines[start:]``; return the block and the index after it.

    Reads only the lines it needs (the blank run before the block and at most 14 lines of it), so a
    marker costs what it looks at, never the rest of the body.
    """
    def line_at(k: int) -> str:
        return _unquote_line(lines[k]) if unquote else lines[k]

    i = start
    while i < len(lines) and not line_at(i).strip():
        i += 1
    block = ForwardBlock()
    last: str | None = None
    first = i
    while i < len(lines) and i - first < 14:
        line = line_at(i).strip()
        if not line:
            break
        m = _LABEL_LINE.match(line[:MAX_LABEL_LINE_CHARS])
        key = _LABELS.get(m.group(1).lower()) if m else None
        if m and key:
            block.headers.setdefault(key, m.group(2).strip())
            last = key
        elif last is not None and last in ("to", "cc"):
            block.headers[last] += " " + line[:MAX_LABEL_LINE_CHARS]  # wrapped recipient list
        else:
            break
        i += 1
    if "from" not in block.headers:
        return None
    return block, i


def find_forward(text: str) -> Forward | None:
    """The forward chain in ``text``, or None when the text holds no recognisable forward.

    Linear in the text: each chain level (at most ``MAX_CHAIN``) scans the remaining lines once,
    continuing after a marker that has no header block instead of starting over.
    """
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    chain: list[ForwardBlock] = []
    cover: str | None = None
    rest = lines
    while len(chain) < MAX_CHAIN:
        found: tuple[int, ForwardBlock, int, bool] | None = None
        suffixes = _Suffixes(rest)
        for idx, line in enumerate(rest):
            if not _is_marker(line):
                continue
            unquote = suffixes.quoted_from(idx + 1)
            parsed = _header_block(rest, idx + 1, unquote)
            if parsed is not None:
                found = (idx, parsed[0], parsed[1], unquote)
                break
            if not line.strip().startswith("_"):
                # a marker without a parseable header block: still a forward, sender unknown
                found = (idx, ForwardBlock(), idx + 1, unquote)
                break
        if found is None:
            break
        idx, block, end, unquote = found
        if cover is None:
            cover = "\n".join(rest[:idx])
        chain.append(block)
        after = rest[end:]
        rest = [_unquote_line(x) for x in after] if unquote else after
    if not chain:
        return None
    return Forward(cover_note=(cover or "").strip(), chain=chain, body="\n".join(rest).strip())
