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


def _unquote(lines: list[str]) -> list[str]:
    """Apple Mail quotes the whole forward with ``> ``: remove one level when most lines carry it."""
    nonblank = [x for x in lines if x.strip()]
    if nonblank and sum(1 for x in nonblank if x.lstrip().startswith(">")) >= 0.6 * len(nonblank):
        return [re.sub(r"^\s?>\s?", "", x) for x in lines]
    return lines


def _header_block(lines: list[str]) -> tuple[ForwardBlock, int] | None:
    """Parse ``Label: value`` lines at the top of ``lines``; return the block and the lines it used."""
    i = 0
    while i < len(lines) and not lines[i].strip():
        i += 1
    block = ForwardBlock()
    last: str | None = None
    start = i
    while i < len(lines) and i - start < 14:
        line = lines[i].strip()
        if not line:
            break
        m = _LABEL_LINE.match(line)
        key = _LABELS.get(m.group(1).lower()) if m else None
        if m and key:
            block.headers.setdefault(key, m.group(2).strip())
            last = key
        elif last is not None and last in ("to", "cc"):
            block.headers[last] += " " + line  # wrapped recipient list
        else:
            break
        i += 1
    if "from" not in block.headers:
        return None
    return block, i


def find_forward(text: str) -> Forward | None:
    """The forward chain in ``text``, or None when the text holds no recognisable forward."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    chain: list[ForwardBlock] = []
    cover: str | None = None
    rest = lines
    while True:
        found = None
        for idx, line in enumerate(rest):
            if _MARKER.match(line.lstrip("> ")):
                after = _unquote(rest[idx + 1:])
                parsed = _header_block(after)
                if parsed is not None:
                    found = (idx, parsed, after)
                    break
                if not line.strip().startswith("_"):
                    # a marker without a parseable header block: still a forward, sender unknown
                    found = (idx, (ForwardBlock(), 0), after)
                    break
        if found is None:
            break
        idx, (block, used), after = found
        if cover is None:
            cover = "\n".join(rest[:idx])
        chain.append(block)
        rest = after[used:]
    if not chain:
        return None
    return Forward(cover_note=(cover or "").strip(), chain=chain, body="\n".join(rest).strip())
