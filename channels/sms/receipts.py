"""SMPP delivery receipts (``deliver_sm`` with ``esm_class`` bits 5-2 = 0x04) → delivery reports.

The id comes from the ``receipted_message_id`` TLV, else from the text's ``id:`` field; the
state from the ``message_state`` TLV, else from ``stat:``. Some SMSCs give the id in hex in
one place and decimal in the other, so :func:`id_forms` lists both forms to try against the
``message_id`` of our ``submit_sm_resp``.
"""

from __future__ import annotations

import contextlib
import re
from typing import Any

from channels.core.inbound import DeliveryReport

_FIELD = re.compile(rb"(?i)\b(id|stat|err):\s*([^\s]+)")
# SMPP 3.4 §5.2.28 message_state
STATE_NAMES = {1: "ENROUTE", 2: "DELIVRD", 3: "EXPIRED", 4: "DELETED", 5: "UNDELIV", 6: "ACCEPTD",
               7: "UNKNOWN", 8: "REJECTD"}
FINAL: dict[str, tuple[str, str | None]] = {
    "DELIVRD": ("delivered", None), "EXPIRED": ("failed", "expired"), "DELETED": ("failed", "undeliverable"),
    "UNDELIV": ("failed", "undeliverable"), "REJECTD": ("failed", "rejected"),
}


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("latin-1", "replace").strip("\x00 ").strip()
    return "" if value is None else str(value).strip()


def parse_receipt(p: Any, payload: bytes) -> tuple[str, str, str | None] | None:
    """(message id, stat name, err) of a receipt PDU, or None when it names no message."""
    fields = {m.group(1).lower().decode(): m.group(2).decode("latin-1") for m in _FIELD.finditer(payload)}
    msg_id = _text(getattr(p, "receipted_message_id", None)) or fields.get("id", "")
    state = getattr(p, "message_state", None)
    stat = STATE_NAMES.get(int(state), "") if isinstance(state, int) and state else ""
    stat = stat or fields.get("stat", "").upper()
    if not msg_id or not stat:
        return None
    return msg_id, stat, fields.get("err")


def report_of(msg_id: str, stat: str, err: str | None) -> DeliveryReport | None:
    """The delivery report a receipt amounts to; None for interim states (ENROUTE, ACCEPTD, UNKNOWN)."""
    if stat not in FINAL:
        return None
    status, code = FINAL[stat]
    detail = f"SMPP {stat}" + (f" err:{err}" if err else "") if code else None
    return DeliveryReport(channel="sms", status=status, provider_id=msg_id, error_code=code,
                          error_detail=detail[:100] if detail else None)


def id_forms(msg_id: str) -> list[str]:
    """The id as given, then its hex↔decimal twins (an SMSC may write either in the receipt)."""
    forms = [msg_id]
    if msg_id.isdigit():
        forms += [format(int(msg_id), "x"), format(int(msg_id), "X")]
    with contextlib.suppress(ValueError):
        forms.append(str(int(msg_id, 16)))
    return list(dict.fromkeys(forms))
