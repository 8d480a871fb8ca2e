"""What a sender does with a message whose provider call may have happened before a crash.

Before each provider call the core-message worker writes ``sending=<chunk>`` on the message
hash; it clears it in the same transaction that records the chunk as sent (``chunks_done``), or
when the call raised (the provider answered, or the connection failed: an ordinary retry). So
the marker survives only a crash (kill -9, OOM, power) between "the request may have left" and
"its result is in Redis" — a window of one provider round trip plus one Redis write.

What we can promise, per provider:

- Recorded as sent ⇒ never sent again, on every channel: a redelivered or reclaimed entry finds
  ``chunks_done`` / the terminal status and skips what was recorded.
- In the crash window, no provider we use takes an idempotency key that would let us ask "did
  you get it?": Kannel ``sendsms``, Jasmin ``/send``, Telegram ``sendMessage``, the Meta Send
  API, WhatsApp Cloud and X have none. SMTP has our ``Message-ID`` (mail clients show two copies
  with one Message-ID as one) and the SMPP bind's outbox carries our id, which makes a second
  copy cheap or invisible there.

The choice (``after_crash``): on a **private** route the message is sent again — at least once.
A citizen on a cheap phone who gets "your report was forwarded" twice loses nothing; one who
gets it zero times thinks LAPOR! ignored them, and the core believes ``sent``-less silence means
the provider is slow. The window is one round trip, so duplicates need a crash at that instant.
On a **public** route (an X reply, a Facebook/Instagram comment) a second copy is visible to
everyone and cannot be unsent: the message is held instead — ``failed`` with
``provider_error`` ``unknown_outcome`` and a dead letter, so an admin checks the public thread
and replays it (a new attempt) only if it is not there.
"""

from __future__ import annotations

from typing import Literal

UNKNOWN_OUTCOME = "unknown_outcome: the sender stopped during the provider call; held so a public post is not doubled"
SENDING = "sending"  # message-hash field: index of the chunk whose provider call is under way


def after_crash(private: bool) -> Literal["resend", "hold"]:
    """What to do with a chunk whose ``sending`` marker survived: see the module docstring."""
    return "resend" if private else "hold"
