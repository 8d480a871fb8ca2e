"""``NormalizeContext``: what the dispatcher passes to ``normalize()`` beyond the messages.

Its own light module so that channel hooks and the HTTP process can name it without importing
the normalizer's models and tables (``normalizer.normalize`` loads the language and
classification models).
"""

from __future__ import annotations

from dataclasses import dataclass, field

REPEAT_THRESHOLD = 3  # the default of settings.spam_repeat_threshold (normalizer.spam uses it too)


@dataclass
class NormalizeContext:
    """What the dispatcher knows beyond the messages (decided elsewhere, passed in)."""

    repeat_count: int = 0  # same text from the same sender in the recent window
    repeat_threshold: int = REPEAT_THRESHOLD  # settings.spam_repeat_threshold, set by the enricher
    extra_flags: list[str] = field(default_factory=list)
    in_reply_to: str | None = None  # record id this message follows up
