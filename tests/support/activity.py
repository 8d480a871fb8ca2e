"""What a fake provider saw of its clients, from its own side: one span per active client session.

A fake opens a span when a client becomes active against it (an SMPP bind accepted, an IMAP
``SELECT`` answered OK, a ``getUpdates`` long poll begun, an X mentions call received) and closes
it when that ends (the connection closed, the poll answered). ``who`` (set by a test) names the
client of a connection from its source port, e.g. ``SocketOwners`` resolving it to a process id,
so a test can prove that only one process was active at a time and which one.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass
class Span:
    who: Any  # what ``who`` said about the client (a pid), None when not set or unresolved
    peer: int  # the client's source port
    start: float  # time.monotonic()
    end: float | None = None  # None while still active

    def overlaps(self, other: Span) -> bool:
        inf = float("inf")
        return self.start < (other.end if other.end is not None else inf) and \
            other.start < (self.end if self.end is not None else inf)


class Activity:
    def __init__(self) -> None:
        self.spans: list[Span] = []
        self.who: Callable[[int, int], Any] | None = None  # (client port, server port) -> identity

    def begin(self, peer: tuple[Any, ...] | None, sock: tuple[Any, ...] | None) -> Span:
        client_port = int(peer[1]) if peer else 0
        server_port = int(sock[1]) if sock else 0
        who = self.who(client_port, server_port) if self.who is not None and client_port else None
        span = Span(who, client_port, time.monotonic())
        self.spans.append(span)
        return span

    @staticmethod
    def end(span: Span) -> None:
        if span.end is None:
            span.end = time.monotonic()

    def active(self) -> list[Span]:
        return [s for s in self.spans if s.end is None]

    def overlapping(self) -> list[tuple[Span, Span]]:
        """Pairs of spans of different clients active at the same moment (should be none)."""
        spans = sorted(self.spans, key=lambda s: s.start)
        return [(a, b) for i, a in enumerate(spans) for b in spans[i + 1:]
                if a.overlaps(b) and (a.who, a.peer) != (b.who, b.peer)]

    def runs(self) -> list[tuple[Any, float, float]]:
        """Who was active, in order: (who, first start, last start) per uninterrupted run."""
        out: list[tuple[Any, float, float]] = []
        for s in sorted(self.spans, key=lambda s: s.start):
            if out and out[-1][0] == s.who:
                out[-1] = (s.who, out[-1][1], s.start)
            else:
                out.append((s.who, s.start, s.start))
        return out

    def first_by(self, who: Any, after: float = 0.0) -> float | None:
        return next((s.start for s in sorted(self.spans, key=lambda s: s.start)
                     if s.who == who and s.start >= after), None)
