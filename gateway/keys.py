"""Every Redis key the gateway uses, in one place, under the ``lapor:`` prefix.

A ``"lapor:…"`` literal anywhere else is a bug (``tests/test_keys.py`` greps for them).
"""

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


# ---------------------------------------------------------------------------- metrics and alerts
METRICS_TOTALS_PREFIX = "lapor:metrics:total:"  # hash per counter: label values -> count
METRICS_HIST_PREFIX = "lapor:metrics:hist:"  # hash per histogram
METRICS_MINUTE_PREFIX = "lapor:metrics:m:"  # <channel>:<hour epoch> hash "<minute>|<outcome>" -> n
METRICS_HOUR_PREFIX = "lapor:metrics:h:"  # <channel>:<hour epoch> hash outcome -> count
METRICS_LAST_SEEN = "lapor:metrics:last"  # zset channel -> unix time of the newest message
METRICS_FIRST_SEEN = "lapor:metrics:first"  # hash channel -> unix time the channel's history starts
ALERT_STATE = "lapor:alert:state"  # hash component -> last state seen
ALERT_LOG = "lapor:alert:log"  # list of sent alerts, newest first


# ---------------------------------------------------------------------------- channels
SMS_MULTIPART_DUE = "lapor:sms:mp:due"  # zset: group key -> time its timeout expires
SMPP_OUTBOX = "lapor:smpp:outbox"  # stream: replies for the SMPP bind to submit


def sms_multipart(gid: str) -> str:
    """Parts of one concatenated SMS (hash-tagged so the group's keys share a slot)."""
    return f"lapor:sms:mp:{{{gid}}}"


def sms_multipart_done(gid: str) -> str:
    return f"lapor:sms:mp:{{{gid}}}:done"


def sms_help_sent(address: str) -> str:
    return f"lapor:sms:help:{address}"


def smpp_seen(digest: str) -> str:
    """A redelivered deliver_sm's digest -> the native id minted the first time."""
    return f"lapor:smpp:seen:{digest}"


def smpp_result(rid: str) -> str:
    return f"lapor:smpp:result:{rid}"


def email_ack_message_id(message_id: str) -> str:
    return f"lapor:email:ackmid:{message_id}"


def twitter_thread(tweet_id: str) -> str:
    return f"lapor:twitter:thread:{tweet_id}"


def twitter_ack(tweet_id: str) -> str:
    return f"lapor:twitter:ack:{tweet_id}"


def twitter_author(record_id: str) -> str:
    return f"lapor:twitter:author:{record_id}"


def text(value: bytes | str | None) -> str | None:
    """A Redis reply as str (the shared client returns bytes: intake and the spool need them raw)."""
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value
