"""Redis keys of the two-way path (core → citizen messages, routes, delivery statuses).

The keys themselves live in ``gateway/keys.py`` with every other key; this module gives the
two-way code its short names. Core messages share ``lapor:outbound`` with acknowledgements.
"""

from __future__ import annotations

from gateway.keys import OUTBOUND_LATER as LATER
from gateway.keys import (
    OUTBOUND_STREAM,
    PREFIX,
    STATUS_OUTBOX,
    citizen_cap,
    last_seen,
    provider_index,
    route,
    status_marker,
)
from gateway.keys import outbound_history as history
from gateway.keys import outbound_message as message
from gateway.keys import outbound_parts as part_statuses

SEND_GROUP = "outbound-senders"  # the core-message worker's consumer group (acks use "senders")
STATUS_MARKER_TTL_S = 30 * 24 * 3600

__all__ = ["LATER", "OUTBOUND_STREAM", "SEND_GROUP", "STATUS_MARKER_TTL_S", "STATUS_OUTBOX", "citizen_cap",
           "history", "last_seen", "message", "part_statuses", "provider_index", "route", "sent_to", "status_marker"]


def sent_to(channel: str, address: str) -> str:
    """Zset provider message id -> unix time it was sent, per recipient: read/delivered watermarks."""
    return f"{PREFIX}out:to:{channel}:{address}"
