"""The send rules the gateway enforces for the core's messages, as pure functions.

Privacy (confidential/anonymous ⇒ private routes only; a public-only route gets the neutral
notice with the reference, never the core's text), fitting the text to the channel (SMS
GSM-7/UCS-2 parts with a cut at a word that ends with the reference, Telegram chunks, X DM
length), the Messenger/Instagram/WhatsApp windows, the per-citizen cap and priorities. No I/O:
the outbound worker feeds them what it read from Redis.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from channels.sms.encoding import fits_gsm, split

TELEGRAM_MAX = 4096
X_DM_MAX = 10_000
META_WINDOW_S = 24 * 3600
HUMAN_AGENT_WINDOW_S = 7 * 24 * 3600
WHATSAPP_WINDOW_S = 24 * 3600
PUBLIC_NOTICE_DEFAULT = "LAPOR! Ada kabar terbaru untuk laporan {ref}. Silakan cek lapor.go.id."
_PRIORITY = {"question": 0, "answer": 0, "question_completeness": 0, "ack": 1, "status": 2, "notice": 2}


@dataclass(frozen=True)
class Privacy:
    """What may be sent on this route: the text, only the neutral notice, or nothing (``error``)."""

    send_text: bool
    public_notice: bool = False
    error: str | None = None
    to_author: bool = False  # send privately to the author of the public post (an X DM)


# channels where the author of a public post can be written to privately (X: a DM to the author)
AUTHOR_DM_CHANNELS = ("twitter",)


def privacy(*, private_route: bool, confidential: bool, anonymous: bool, channel: str | None = None) -> Privacy:
    """Private route ⇒ the text. Public route: a confidential/anonymous record goes privately to
    the author where the channel allows it (X DM; the sender fails ``no_private_route`` when the
    author cannot be written to), else nowhere; any other record gets the neutral notice."""
    if private_route:
        return Privacy(send_text=True)
    if confidential or anonymous:
        if channel in AUTHOR_DM_CHANNELS:
            return Privacy(send_text=True, to_author=True)
        return Privacy(send_text=False, error="no_private_route")
    return Privacy(send_text=False, public_notice=True)


def public_notice_text(template: str | None, reference: str) -> str:
    """The neutral notice for a public route: the reference only, never the core's words."""
    tpl = template or PUBLIC_NOTICE_DEFAULT
    return tpl.replace("{ref}", reference) if "{ref}" in tpl else f"{tpl} {reference}"


@dataclass(frozen=True)
class Fitted:
    """The text as it will be sent: one string per send call, and how the provider counts it."""

    chunks: list[str]
    parts: int
    truncated: bool = False
    encoding: str | None = None  # gsm7 | ucs2 for SMS
    notes: list[str] = field(default_factory=list)


def sms_parts(text: str) -> int:
    """How many concatenated SMS ``text`` takes (GSM-7 when it fits, else UCS-2)."""
    return len(split(text, 0).parts)


def fit_sms(text: str, reference: str, max_parts: int) -> Fitted:
    """At most ``max_parts`` parts; longer text is cut at a word and ends with the reference."""
    enc = "gsm7" if fits_gsm(text) else "ucs2"
    if sms_parts(text) <= max_parts:
        return Fitted([text], sms_parts(text), False, enc)
    # '…' is not GSM-7: in a GSM-7 text it would turn the whole message into UCS-2
    tail = f"... Ref {reference}" if enc == "gsm7" else f"… Ref {reference}"
    words = text.split(" ")
    lo, hi = 0, len(words)  # the largest number of whole words that still fits with the tail
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if sms_parts(" ".join(words[:mid]).rstrip() + tail) <= max_parts:
            lo = mid
        else:
            hi = mid - 1
    head = " ".join(words[:lo]).rstrip()
    if not head:  # one enormous "word": cut by characters
        n = len(text)
        while n > 0 and sms_parts(text[:n] + tail) > max_parts:
            n -= max(1, n // 20)
        head = text[:n]
    out = head + tail
    return Fitted([out], sms_parts(out), True, "gsm7" if fits_gsm(out) else "ucs2")


def split_text(text: str, limit: int) -> list[str]:
    """Chunks of at most ``limit`` characters, cut at a line break or space when there is one."""
    chunks: list[str] = []
    rest = text
    while len(rest) > limit:
        cut = max(rest.rfind("\n", 0, limit), rest.rfind(" ", 0, limit))
        if cut <= limit // 2:
            cut = limit
        chunks.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        chunks.append(rest)
    return chunks


def fit(channel: str, text: str, reference: str, *, sms_max_parts: int) -> Fitted:
    """The text fitted to ``channel`` (reply_to.channel)."""
    if channel == "sms":
        return fit_sms(text, reference, sms_max_parts)
    if channel == "telegram":
        chunks = split_text(text, TELEGRAM_MAX)
        return Fitted(chunks, len(chunks))
    if channel == "twitter":
        chunks = split_text(text, X_DM_MAX)
        return Fitted(chunks, len(chunks))
    return Fitted([text], 1)


@dataclass(frozen=True)
class Window:
    """May free text go out now? ``tag`` is the Meta message tag to use, ``template`` for WhatsApp."""

    ok: bool
    tag: str | None = None
    template: bool = False
    error: str | None = None


def window(channel: str, *, last_seen: float | None, now: float, human_agent: bool) -> Window:
    """Messenger/Instagram: 24 h free, then HUMAN_AGENT up to 7 days if allowed; WhatsApp: 24 h
    free, then the approved template. Other channels have no window."""
    age = None if last_seen is None else now - last_seen
    if channel in ("facebook", "instagram"):
        if age is not None and age <= META_WINDOW_S:
            return Window(True)
        if human_agent and age is not None and age <= HUMAN_AGENT_WINDOW_S:
            return Window(True, tag="HUMAN_AGENT")
        return Window(False, error="window_closed")
    if channel == "whatsapp":
        if age is not None and age <= WHATSAPP_WINDOW_S:
            return Window(True)
        return Window(True, template=True)
    return Window(True)


def cap_wait(sent_this_hour: int, cap: int, now: float) -> float | None:
    """None when another message may go to this citizen now, else the time it may go (next hour)."""
    if sent_this_hour < cap:
        return None
    return (int(now // 3600) + 1) * 3600.0


def priority(kind: str) -> int:
    """Lower goes first: questions and answers before acknowledgements before status notices."""
    return _PRIORITY.get(kind, 2)
