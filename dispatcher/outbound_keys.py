"""Redis keys of the two-way path (core → citizen messages, routes, delivery statuses).

Kept apart from ``gateway/keys.py`` so the two-way foundations stand in their own files; all
under the ``lapor:`` prefix. The stream is the one acknowledgements use (``lapor:outbound``):
core messages are entries with the field ``o`` (the outbound id), acknowledgements carry ``m``.
"""

from __future__ import annotations

from gateway import keys

OUTBOUND_STREAM = "lapor:outbound"
SEND_GROUP = "outbound-senders"  # the core-message worker's consumer group (acks use "senders")
LATER = "lapor:outbound:later"  # zset: outbound id -> unix time when it may be tried again
STATUS_MARKER_TTL_S = 30 * 24 * 3600
STATUS_OUTBOX = "lapor:status:outbox"  # statuses waiting for a core queue on another Redis


def message(outbound_id: str) -> str:
    """Hash of one outbound message: its document, status, parts, provider ids, attempts."""
    return f"lapor:out:{outbound_id}"


def history(outbound_id: str) -> str:
    """List of JSON ``{status, at, error}`` in the order they happened."""
    return f"lapor:out:{outbound_id}:hist"


def part_statuses(outbound_id: str) -> str:
    """Hash part index (1-based) -> status of that SMS part / Telegram chunk."""
    return f"lapor:out:{outbound_id}:parts"


def status_marker(outbound_id: str, status: str) -> str:
    """Written in the same atomic step as the status job: the job exists exactly once."""
    return f"lapor:stq:{outbound_id}-{status}"


def provider_index(channel: str, provider_id: str) -> str:
    """``<channel>:<provider message id>`` -> ``<outbound id> <part> <ids>``: DLRs, receipts, webhooks."""
    return keys.outbound_provider(channel, provider_id)


def route(record_id: str) -> str:
    """JSON route of a record (reply_to, thread, native message id, privacy, identity)."""
    return f"lapor:route:{record_id}"


def last_seen(channel: str, address: str) -> str:
    """Unix time of the citizen's last message on this route (Meta/WhatsApp windows)."""
    return f"lapor:lastseen:{channel}:{address}"


def citizen_cap(channel: str, address: str, hour: int) -> str:
    return f"lapor:outcap:{channel}:{address}:{hour}"


def sent_to(channel: str, address: str) -> str:
    """Zset provider message id -> unix time it was sent, per recipient: read/delivered watermarks."""
    return f"lapor:out:to:{channel}:{address}"
