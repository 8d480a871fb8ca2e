"""Every email parser is linear in its input: 1 MB of each hostile construction costs < 6x what a
quarter of it costs (CPU time of this thread, best of a few runs: a ratio, not a wall-clock bound)."""

from __future__ import annotations

import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from channels.email.mime import MAX_MIME_STRUCTURES, build
from channels.email.tests.pathological import MAILS, nested, plain
from gateway.blobs import FileBlobStore

MB = 1024 * 1024
SETTINGS = SimpleNamespace(email_own_addresses="", smtp_from="LAPOR! <noreply@lapor.go.id>",
                           imap_user="pengaduan@lapor.go.id")


@pytest.fixture
def blobs(tmp_path: Path) -> FileBlobStore:
    return FileBlobStore(tmp_path / "blobs", 50 * MB)


def _cost(raw: bytes, blobs: FileBlobStore) -> float:
    t0 = time.thread_time()
    result = build(raw, SETTINGS, blobs)
    spent = time.thread_time() - t0
    assert len(result.messages) == 1  # parsed, stored as one message: never an exception, never a drop
    return spent


def _ratio(make: Any, small: int, blobs: FileBlobStore, repeats: int = 3) -> float:
    """cost(4 * small) / cost(small), each the best of ``repeats`` runs, interleaved."""
    a, b = make(small), make(4 * small)
    best_a = best_b = float("inf")
    for _ in range(repeats):
        best_a = min(best_a, _cost(a, blobs))
        best_b = min(best_b, _cost(b, blobs))
    return best_b / max(best_a, 1e-4)


@pytest.mark.parametrize("name", list(MAILS))
def test_one_megabyte_of_each_construction_parses_in_linear_time(name: str, blobs: FileBlobStore) -> None:
    ratio = _ratio(MAILS[name], MB // 4, blobs)
    assert ratio < 6, f"{name}: 4x the input cost {ratio:.1f}x"


def test_forward_parsed_after_hostile_date_and_separators(blobs: FileBlobStore) -> None:
    """Bounded patterns still do their job: the citizen of a forward whose Date: is garbage is found."""
    raw = plain(b"Mohon ditindaklanjuti\r\n" + b"__________\r\n" * 5000
                + b"---------- Forwarded message ---------\r\nFrom: Siti <siti@example.id>\r\nDate: 1"
                + b" " * 20_000 + b"\r\nSubject: Jalan rusak\r\n\r\nJalan di depan SD berlubang.")
    (m,) = build(raw, SETTINGS, blobs).messages
    assert m.sender.email == "siti@example.id" and m.body == "Jalan di depan SD berlubang."
    assert m.flags == ["forwarded"] and m.title == "Jalan rusak"


def test_too_deep_mime_is_stored_as_text_and_flagged(blobs: FileBlobStore) -> None:
    (m,) = build(nested(MAX_MIME_STRUCTURES + 5), SETTINGS, blobs).messages
    assert "decode_error" in m.flags and "nested" in m.meta["mime_limited"]
    assert "Jalan rusak" in m.text
    (ok,) = build(nested(3), SETTINGS, blobs).messages
    assert "mime_limited" not in ok.meta and ok.body == "Jalan rusak"


_PIECES = [" ", "\t", "-", "_", ">", "=", "*", ":", "\r\n", "Date: 1", "From: a@b.id", "On x wrote:",
           "---------- Forwarded message ---------", "Begin forwarded message:", "=?utf-8?q?", "Re:"]


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(runs=st.lists(st.tuples(st.sampled_from(_PIECES), st.integers(1, 4000)), min_size=1, max_size=6))
def test_long_runs_of_separators_and_spaces_stay_linear(runs: list[tuple[str, int]], blobs: FileBlobStore) -> None:
    unit = "".join(piece * count for piece, count in runs).encode()
    reps = max(1, (128 * 1024) // len(unit))

    def make(n: int) -> bytes:
        return plain(unit * max(1, n * reps // (128 * 1024)), subject=b"Fwd: " + unit[:2000])

    ratio = _ratio(make, 128 * 1024, blobs)
    assert ratio < 6, f"{runs!r}: 4x the input cost {ratio:.1f}x"
