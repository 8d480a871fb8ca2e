"""Messenger/Instagram ``delivery`` and ``read`` webhook events → delivery reports.

``delivery`` names the ``mids`` of our messages that reached the citizen's device (older
clients give only a ``watermark``: every message sent before it); ``read`` gives only a
``watermark`` — every message we sent to that citizen before it was read. Both are reported
to the status engine, which keeps a per-recipient index of what we sent (with times) to
resolve watermarks. The citizen is the event's ``sender``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from channels.core.inbound import DeliveryReport
from channels.core.outbound import watermark_id


def _iso_ms(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        return None
    try:
        return datetime.fromtimestamp(value / 1000, UTC).isoformat().replace("+00:00", "Z")
    except (OverflowError, OSError, ValueError):
        return None


def receipt_reports(channel: str, ev: dict[str, Any]) -> list[DeliveryReport] | None:
    """The reports of one ``messaging[]`` event, or None when it is not a delivery/read receipt."""
    sender = ev.get("sender")
    citizen = str(sender.get("id")) if isinstance(sender, dict) and sender.get("id") is not None else None
    delivery, read = ev.get("delivery"), ev.get("read")
    if isinstance(delivery, dict):
        at = _iso_ms(delivery.get("watermark")) or _iso_ms(ev.get("timestamp"))
        mids = [str(m) for m in delivery.get("mids") or [] if isinstance(m, str | int)]
        if mids:
            return [DeliveryReport(channel=channel, status="delivered", provider_id=m, at=at) for m in mids]
        if citizen and at:
            return [DeliveryReport(channel=channel, status="delivered", provider_id=watermark_id(citizen), at=at)]
        return []
    if isinstance(read, dict):
        at = _iso_ms(read.get("watermark"))
        if citizen and at:
            return [DeliveryReport(channel=channel, status="read", provider_id=watermark_id(citizen), at=at)]
        return []
    return None
