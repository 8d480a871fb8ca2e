"""Every Redis key the gateway uses, in one place, under the ``lapor:`` prefix.

A ``"lapor:…"`` literal anywhere else is a bug (``tests/test_keys.py`` greps for them).
"""

from __future__ import annotations

from collections.abc import Callable

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
ALERT_FLAPS_PREFIX = "lapor:alert:flaps:"  # zset per component: its recent transitions (time)
ALERT_FLAPPING = "lapor:alert:flapping"  # hash component -> since when it is flapping (alerts paused)
ADMIN_SESSION_PREFIX = "lapor:admin:session:"  # server-side admin sessions (logout revokes)
GATEWAY_PRESENCE_PREFIX = "lapor:gateway:"  # <host>:<pid> -> what a running gateway serves (TTL)


# ---------------------------------------------------------------------------- channels
SMS_MULTIPART_DUE = "lapor:sms:mp:due"  # zset: group key -> time its timeout expires
SMPP_OUTBOX = "lapor:smpp:outbox"  # stream: replies for the SMPP bind to submit



def _under(prefix: str) -> Callable[[str], str]:
    """A key family: ``prefix`` + one id."""
    return lambda part: f"{prefix}{part}"


sms_help_sent = _under("lapor:sms:help:")  # address -> a help text was sent recently
smpp_seen = _under("lapor:smpp:seen:")  # redelivered deliver_sm digest -> the native id minted first
smpp_result = _under("lapor:smpp:result:")  # a submit's request id -> its result
email_ack_message_id = _under("lapor:email:ackmid:")  # our ack's Message-ID -> record id
twitter_thread = _under("lapor:twitter:thread:")  # tweet id -> record id of the thread
twitter_ack = _under("lapor:twitter:ack:")  # our reply's tweet id -> record id
twitter_author = _under("lapor:twitter:author:")  # record id -> author id

# ------------------------------------------------------------- conversations (dispatcher/conversation.py)
HELD_DUE = "lapor:held:due"  # zset: held record id -> unix time its completeness wait ends
held = _under("lapor:held:")  # held record id -> hash: record JSON, route, deadline, state, claimer


def expect(channel: str, address: str) -> str:
    """What the citizen's next message on this route answers (hash: record, outbound id, until, claimer)."""
    return f"lapor:expect:{channel}:{address}"


def sms_multipart(gid: str, done: bool = False) -> str:
    """Parts of one concatenated SMS (hash-tagged so the group's keys share a slot)."""
    return f"lapor:sms:mp:{{{gid}}}" + (":done" if done else "")

def text(value: bytes | str | None) -> str | None:
    """A Redis reply as str (the shared client returns bytes: intake and the spool need them raw)."""
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


# ---------------------------------------------------------------------------- two-way
# core messages are entries of OUTBOUND_STREAM with the field ``o`` (acknowledgements carry ``m``)
OUTBOUND_LATER = "lapor:outbound:later"  # zset: outbound id -> unix time when it may be tried again
STATUS_OUTBOX = "lapor:status:outbox"  # statuses waiting for a core queue on another Redis


def outbound_message(outbound_id: str) -> str:
    """Hash of one outbound message: its document, status, parts, provider ids, attempts."""
    return f"lapor:out:{outbound_id}"


def outbound_history(outbound_id: str) -> str:
    """List of JSON ``{status, at, error}`` in the order they happened."""
    return f"lapor:out:{outbound_id}:hist"


def outbound_parts(outbound_id: str) -> str:
    """Hash part index (1-based) -> status of that SMS part / Telegram chunk."""
    return f"lapor:out:{outbound_id}:parts"


def status_marker(outbound_id: str, status: str) -> str:
    """Written in the same atomic step as the status job: the job exists exactly once."""
    return f"lapor:stq:{outbound_id}-{status}"


def provider_index(channel: str, provider_id: str) -> str:
    """A provider's message id -> ``<outbound id> <part> <ids>``: delivery reports find our message
    (written by the status engine; the SMPP bind reads it to match a receipt's id forms)."""
    return f"lapor:out:pid:{channel}:{provider_id}"


def route(record_id: str) -> str:
    """JSON route of a record (reply_to, thread, native message id, privacy, identity)."""
    return f"lapor:route:{record_id}"


def last_seen(channel: str, address: str) -> str:
    """Unix time of the citizen's last message on this route (Meta/WhatsApp windows)."""
    return f"lapor:lastseen:{channel}:{address}"


def citizen_cap(channel: str, address: str, hour: int) -> str:
    return f"lapor:outcap:{channel}:{address}:{hour}"


outbound_provider = provider_index
