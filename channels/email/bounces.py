"""Bounces of the mail we sent → ``failed`` delivery reports, never records.

A DSN (RFC 3464: ``multipart/report; report-type=delivery-status``) says per recipient what
happened (``Action: failed`` / ``delayed`` / ``delivered``…, ``Status: 5.1.1``) and carries the
original message or its headers (``message/rfc822`` / ``text/rfc822-headers``), whose
``Message-ID`` is the one our sender recorded as the provider id. Bounces that are not DSNs
(what the classifier recognises by sender or subject) are matched by any ``Message-ID`` they
quote. The status engine ignores ids that are not ours.
"""

from __future__ import annotations

import re
from email.message import Message

from channels.core.inbound import DeliveryReport

_MSGID_LINE = re.compile(rb"(?im)^message-id:[ \t]*<([^<>\s]{3,300})>")
_REFS = re.compile(r"<([^<>\s]{3,300})>")
_STATUS = re.compile(r"^[245]\.\d{1,3}\.\d{1,3}$")
MAX_IDS = 20


def _dsn_fields(part: Message) -> list[dict[str, str]]:
    """The field groups of a ``message/delivery-status`` part (the email package parses it into
    one Message per group; a raw text payload is split by blank lines)."""
    payload = part.get_payload()
    groups: list[dict[str, str]] = []
    if isinstance(payload, list):
        for block in payload:
            if isinstance(block, Message):
                groups.append({k.lower(): str(v).strip() for k, v in block.items()})
        return groups
    text = payload if isinstance(payload, str) else ""
    for chunk in re.split(r"\r?\n\r?\n", text):
        fields: dict[str, str] = {}
        for line in chunk.splitlines():
            name, sep, value = line.partition(":")
            if sep:
                fields[name.strip().lower()] = value.strip()
        if fields:
            groups.append(fields)
    return groups


def _original_ids(msg: Message, raw: bytes, own_id: str | None) -> list[str]:
    ids: list[str] = []
    for part in msg.walk():
        ctype = part.get_content_type()
        if ctype == "message/rfc822":
            inner = part.get_payload()
            inner_msg = inner[0] if isinstance(inner, list) and inner else None
            if isinstance(inner_msg, Message) and inner_msg.get("Message-ID"):
                ids += _REFS.findall(str(inner_msg.get("Message-ID")))
        elif ctype == "text/rfc822-headers":
            body = part.get_payload(decode=True)
            if isinstance(body, bytes):
                ids += [m.decode("latin-1") for m in _MSGID_LINE.findall(body)]
    if not ids:  # a bounce that is no DSN: any Message-ID it quotes, then what it says it answers
        ids += [m.decode("latin-1") for m in _MSGID_LINE.findall(raw)]
        for name in ("In-Reply-To", "References"):
            ids += _REFS.findall(str(msg.get(name) or ""))
    return [i for i in dict.fromkeys(ids) if i != own_id][:MAX_IDS]


def bounce_reports(msg: Message, raw: bytes) -> list[DeliveryReport]:
    """``failed`` reports for the messages of ours this bounce names; [] when it reports no failure."""
    groups = [g for part in msg.walk() if part.get_content_type() == "message/delivery-status"
              for g in _dsn_fields(part)]
    actions = [g["action"].lower() for g in groups if "action" in g]
    if actions and "failed" not in actions:
        return []  # delayed / delivered / relayed: not a failure (yet)
    status = next((g["status"] for g in groups if g.get("action", "").lower() == "failed"
                   and _STATUS.match(g.get("status", ""))), None)
    code = "expired" if status and status.startswith("4.") else "undeliverable"
    own = _REFS.findall(str(msg.get("Message-ID") or ""))
    ids = _original_ids(msg, raw, own[0] if own else None)
    detail = f"bounce {status}" if status else "bounce"
    return [DeliveryReport(channel="email", status="failed", provider_id=i, error_code=code, error_detail=detail)
            for i in ids]
