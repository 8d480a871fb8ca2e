"""Quoted earlier messages and signatures out of a mail body; a meaningful title from the subject.

What is removed is what a citizen did not write for this complaint: the quoted mail they answer
(``On … wrote:``, ``Pada … menulis:``, ``>`` lines, Outlook's original-message block) and the
signature (RFC 3676 ``-- `` delimiter, "Sent from my iPhone" style footers).
"""

from __future__ import annotations

import re

_ATTRIBUTION = re.compile(r"^(on|pada)\b.{0,200}\b(wrote|menulis|tulis)\s*:\s*$", re.I | re.S)
_ATTRIBUTION_START = re.compile(r"^(on|pada)\b", re.I)
_OUTLOOK_REPLY = re.compile(r"^\s*(-{2,}\s*(original message|pesan asli)\s*-{2,}|_{10,})\s*$", re.I)
_HEADER_LINE = re.compile(r"^\s*\*?(from|dari)\s*:\*?\s", re.I)
_SIG_DELIM = re.compile(r"^--\s?$")
_FOOTERS = re.compile(
    r"^\s*(sent from my \w+.*|dikirim dari \w+.*|sent from (yahoo|outlook|mail|samsung).*|"
    r"get outlook for \w+.*|dapatkan outlook untuk \w+.*|sent via .{1,40}|dikirim melalui .{1,40})\s*$",
    re.I,
)
# possessive runs: "Re" + a long run of spaces without a colon must not be re-split (was quadratic)
_PREFIX = re.compile(r"^\s*+(?:(?:re|fw|fwd|tr|trs|terusan|bls|balas|aw|wg|sv|rv)\s*+(?:\[\d+\]\s*+)?:\s*+)+", re.I)
_BLANKS = re.compile(r"\n{3,}")
_OUR_REF = re.compile(r"\bLPR-[0-9A-Z]{5}-[0-9A-Z]{5}\b")


def strip_quotes(text: str) -> str:
    """Cut at the first attribution line or Outlook reply block; drop ``>`` lines."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    out: list[str] = []
    for i, line in enumerate(lines):
        s = line.strip()
        if _ATTRIBUTION.match(s):
            break
        if _ATTRIBUTION_START.match(s) and i + 1 < len(lines) and _ATTRIBUTION.match(f"{s} {lines[i + 1].strip()}"):
            break
        if _OUTLOOK_REPLY.match(line) and any(_HEADER_LINE.match(x) for x in lines[i + 1:i + 4]):
            break
        if s.startswith(">"):
            continue
        out.append(line)
    return "\n".join(out)


def strip_signature(text: str) -> str:
    """Cut at the signature delimiter; drop mobile "sent from" footers."""
    out: list[str] = []
    for line in text.split("\n"):
        if _SIG_DELIM.match(line):
            break
        if _FOOTERS.match(line):
            continue
        out.append(line)
    return "\n".join(out)


def clean_body(text: str) -> str:
    """The citizen's own words: quotes and signature removed, blank runs folded."""
    cleaned = strip_signature(strip_quotes(text))
    return _BLANKS.sub("\n\n", cleaned).strip()


def bare_subject(subject: str | None) -> str:
    """The subject without reply/forward prefixes (``Re:``, ``Fwd:``, ``TRS:``, ``BLS:`` …)."""
    return _PREFIX.sub("", subject or "").strip()


def is_reply_subject(subject: str | None) -> bool:
    m = re.match(r"^\s*(re|bls|balas|aw|sv|rv)\s*:", subject or "", re.I)
    return m is not None


def is_forward_subject(subject: str | None) -> bool:
    return re.match(r"^\s*(fw|fwd|tr|trs|terusan|wg)\s*:", subject or "", re.I) is not None


def title_of(subject: str | None) -> str | None:
    """The subject as a title when it says something (not empty, not only prefixes or symbols)."""
    bare = bare_subject(subject)
    if len(re.sub(r"\W", "", bare)) < 3:
        return None
    if bare.lower() in {"no subject", "(no subject)", "tanpa subjek", "(tanpa subjek)", "untitled"}:
        return None
    if _OUR_REF.search(bare):
        return None  # the subject of our own acknowledgement, answered: says nothing new
    return bare
