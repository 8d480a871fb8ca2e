"""One builder for the three SMS inputs: raw bytes + addresses → ``InboundMessage``.

Kannel, Jasmin and SMPP differ only in how they hand over the same facts, so everything the
record depends on (decoding, keywords, sender number, reply address, multipart bookkeeping)
is decided here once. A part of a concatenated SMS keeps its raw bytes and codec in
``meta["sms"]``; the dispatcher's reassembly decodes the joined bytes (``hooks.py``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from channels.sms import decoding
from channels.sms.keywords import strip_keywords
from normalizer.models import Flag, InboundMessage, Part, ReplyTo, Sender
from normalizer.phone import parse_msisdn

CHANNEL: Literal["sms"] = "sms"


def sender_of(raw: str, ton: int | None = None) -> tuple[Sender, str | None, bool]:
    """(Sender, reply address, parsable). Unparsable senders are kept raw, never dropped."""
    raw = raw.strip()
    parsed = parse_msisdn(raw, ton=ton)
    if parsed.e164:
        return Sender(kind="msisdn", id=raw, phone=parsed.e164), parsed.e164, True
    return Sender(kind="msisdn", id=raw or "unknown", phone=None), None, False


def apply_text(msg: InboundMessage, data: bytes, codec: str) -> None:
    """Decode ``data`` into ``msg`` (text, keyword-stripped body, flags)."""
    dec = decoding.decode(data, codec)
    msg.text = dec.text
    kw = strip_keywords(dec.text)
    msg.body = kw.body if (kw.confidential or kw.anonymous) else None
    msg.confidential = msg.confidential or kw.confidential
    msg.anonymous = msg.anonymous or kw.anonymous
    if dec.error and "decode_error" not in msg.flags:
        msg.flags.append("decode_error")


def build(*, provider: str, native_id: str, sender: str, recipient: str | None, data: bytes, codec: str,
          sent_at: datetime | None = None, concat: decoding.Concat | None = None, ton: int | None = None,
          thread: str | None = None, extra_meta: dict[str, Any] | None = None, raw: str | None = None,
          flags: list[Flag] | None = None) -> InboundMessage:
    snd, reply_address, parsable = sender_of(sender, ton)
    meta: dict[str, Any] = {"sms": {"data": data.hex(), "codec": codec}}
    if extra_meta:
        meta.update(extra_meta)
    msg_flags: list[Flag] = list(flags or [])
    if not parsable:  # alphanumeric/shortcode sender: no number to answer or to identify the citizen by
        msg_flags.append("sender_unparsable")
    msg = InboundMessage(
        channel=CHANNEL, provider=provider, kind="sms", native_id=native_id, sender=snd, body=None,
        recipient=(recipient or "").strip() or None, sent_at=sent_at, flags=msg_flags, meta=meta, raw=raw,
        reply_to=ReplyTo(channel=CHANNEL, address=reply_address, thread=thread, private=True)
        if reply_address else None,
        part=Part(ref=concat.ref, total=concat.total, seq=concat.seq) if concat and concat.total > 1 else None,
    )
    apply_text(msg, data, codec)
    return msg
