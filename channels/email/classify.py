"""Mail that is not a complaint: auto-replies, bounces, list bulk, and our own acknowledgements.

Answering any of these would start a mail loop (RFC 3834), and none of them is a citizen's
complaint: they are acknowledged to the mailbox/MTA, counted as skipped, and produce no record.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from email.message import Message
from email.utils import parseaddr

ACK_HEADER = "X-LAPOR-Reference"  # set on every acknowledgement we send

_AUTO_SUBJECT = re.compile(
    r"^\s*(automatic reply|auto(matic)?[- ]?reply|autoreply|out of (the )?office|balasan otomatis|"
    r"sedang (cuti|di luar kantor)|abwesenheit|réponse automatique)\b", re.I)
_BOUNCE_SUBJECT = re.compile(
    r"^\s*(undeliverable|undelivered mail|delivery status notification|mail delivery failed|"
    r"delivery failure|returned mail|failure notice|pesan tidak terkirim|tidak dapat dikirim)\b", re.I)
_BOUNCE_LOCALS = {"mailer-daemon", "postmaster", "mail-daemon"}


def classify(msg: Message, header: Callable[[str], str], own_addresses: Collection[str]) -> str | None:
    """Why ``msg`` is not a complaint (``own``, ``auto_reply``, ``bounce``, ``list``), or None."""
    from_addr = parseaddr(header("From"))[1].lower()
    if header(ACK_HEADER) or (from_addr and from_addr in own_addresses):
        return "own"
    local = from_addr.split("@", 1)[0]
    ctype = msg.get_content_type()
    if ctype == "multipart/report" or local in _BOUNCE_LOCALS or header("Return-Path").strip() == "<>":
        return "bounce"
    auto = header("Auto-Submitted").strip().lower()
    if auto and auto.split(";")[0].strip() != "no":
        return "auto_reply"
    if any(header(h) for h in ("X-Autoreply", "X-Autorespond", "X-Autoresponder", "X-Auto-Reply")):
        return "auto_reply"
    subject = header("Subject")
    if _BOUNCE_SUBJECT.match(subject):
        return "bounce"
    if _AUTO_SUBJECT.match(subject):
        return "auto_reply"
    if header("Precedence").strip().lower() in {"bulk", "junk", "list"}:
        return "list"
    if header("List-Unsubscribe") or header("List-Id"):
        return "list"
    return None
