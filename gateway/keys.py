"""Every Redis key the gateway uses, in one place, under the ``lapor:`` prefix (DESIGN.md)."""

from __future__ import annotations

PREFIX = "lapor:"
INBOUND_STREAM = "lapor:inbound"
DEAD_STREAM = "lapor:dead"
QUARANTINE_STREAM = "lapor:quarantine"
OUTBOUND_STREAM = "lapor:outbound"
OUTBOUND_RETRY = "lapor:outbound:retry"  # zset: payload -> due time
OUTBOUND_DEAD = "lapor:outbound:dead"
DISPATCH_GROUP = "dispatchers"
OUTBOUND_GROUP = "senders"
ATTEMPTS = "lapor:attempts"  # hash: stream entry id -> failed attempts
WORKERS = "lapor:workers"  # zset: consumer name -> last heartbeat (unix s)


def idem(key: str) -> str:
    """Idempotency claim of ``<channel>:<native id>``; value = record id."""
    return f"lapor:idem:{key}"


def enqueued(record_id: str) -> str:
    """Marker written in the same transaction as the core enqueue (exactly once)."""
    return f"lapor:enq:{record_id}"


def channel_log(channel: str) -> str:
    return f"lapor:chlog:{channel}"


def rate(channel: str, address: str) -> str:
    return f"lapor:rate:{channel}:{address}"


def state(name: str) -> str:
    """Small shared state documents (poller checkpoints, bind state, …)."""
    return f"lapor:state:{name}"
