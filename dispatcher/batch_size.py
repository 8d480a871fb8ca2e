"""How many stream entries a dispatcher worker reads next: small batches while it keeps up, the
whole ``LAPOR_DISPATCH_BATCH`` when it is far behind.

Nothing of a batch reaches the core before the whole batch is normalized and committed, so a
record waits for the batch in flight and then for its own: at ~450 µs per record a batch of 200
adds ~90 ms twice to the accept → core lag. Reading only what commits within ``TARGET_S`` keeps
that small, and leaves the rest of the stream to another worker that is free. The per-batch work
(three round trips, the plan, the metrics) costs a few µs per record more at 50 than at 200
(``bench.profile_worker --batch``). Far behind (the newest entry read was accepted more than
``BEHIND_S`` ago and the read came back full) the lag target is lost anyway and the fewest round
trips per record win, so the worker reads the cap.
"""

from __future__ import annotations

import time

TARGET_S = 0.025  # a batch's own processing time, read to commit
BEHIND_S = 1.0  # newest entry this old: catching up, read the cap
FLOOR = 16  # never fewer (fixed costs per batch), unless the cap is lower
_FIRST_GUESS_S = 0.0005  # per record before anything was measured (normalize dominates)
_ALPHA = 0.2  # weight of the newest batch in the running per-record time
_SLOWEST_S = 0.01  # per record: no record costs more; longer means the batch waited (Redis full, away)


class BatchSize:
    """Adapts the XREADGROUP ``COUNT`` to the measured wall time per record."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.per_record_s = _FIRST_GUESS_S
        self.behind = False

    def next(self) -> int:
        if self.behind:
            return self.cap
        return max(min(FLOOR, self.cap), min(self.cap, int(TARGET_S / self.per_record_s)))

    def observe(self, read: int, asked: int, seconds: float, newest_entry_id: str, now: float | None = None) -> None:
        """After a batch of ``read`` entries (``asked`` was its COUNT) took ``seconds`` to commit."""
        if read <= 0:
            return
        per = min(max(seconds / read, 1e-6), _SLOWEST_S)  # a batch held while Redis refused is not a cost
        self.per_record_s += _ALPHA * (per - self.per_record_s)
        age = (time.time() if now is None else now) - entry_time(newest_entry_id)
        self.behind = read >= asked and age > BEHIND_S


def entry_time(entry_id: str) -> float:
    """When Redis added a stream entry (its id is ``<unix ms>-<seq>``), in seconds."""
    ms, _, _seq = entry_id.partition("-")
    try:
        return int(ms) / 1000
    except ValueError:
        return 0.0
