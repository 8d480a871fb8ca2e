"""Local, fsync'd spool for messages that arrive while Redis is unreachable.

Segments are append-only JSON-lines files under ``<data dir>/spool``; each process writes its
own segment under an exclusive ``flock`` so that any process (this one, or the next one after a
crash) can flush closed segments without racing a writer. A segment is deleted only after every
entry in it is in Redis; replaying a segment twice is harmless because intake deduplicates.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import fcntl
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import orjson


@dataclass(frozen=True)
class SpoolEntry:
    key: str
    record_id: str
    msg: str  # the message JSON exactly as it would have gone to the stream


class SpoolError(OSError):
    """The spool could not be written (disk full, read-only, …)."""


DEFAULT_MAX_BYTES = 2 * 1024**3
_SIZE_RECHECK_S = 1.0  # how stale the on-disk total may be (other processes write their own segments)


class Spool:
    """``max_bytes`` bounds the spool on disk (all segments of the directory): past it, appends fail
    like a full disk, so intake answers 503 and the provider keeps the message and retries, before
    the spool could fill the disk that Redis's own persistence and the logs need."""

    def __init__(self, directory: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.dir = directory
        self.max_bytes = max_bytes
        self._fd: int | None = None
        self._path: Path | None = None
        self._lines = 0
        self._disk_bytes = 0
        self._disk_checked = float("-inf")
        self._counted: dict[Path, tuple[int, int]] = {}  # segment -> (bytes counted, lines in them)

    # ------------------------------------------------------------------ writing
    def _open(self) -> int:
        if self._fd is None:
            self.dir.mkdir(parents=True, exist_ok=True)
            name = f"{time.time_ns():020d}-{os.getpid()}.jsonl"
            path = self.dir / name
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            self._fd, self._path, self._lines = fd, path, 0
            _fsync_dir(self.dir)
        return self._fd

    def append_sync(self, entries: list[SpoolEntry]) -> None:
        """Write and fsync (group commit: one fsync for the whole batch)."""
        data = b"".join(
            orjson.dumps({"k": e.key, "i": e.record_id, "m": e.msg}) + b"\n" for e in entries
        )
        if self.disk_bytes() + len(data) > self.max_bytes:
            raise SpoolError(errno.ENOSPC, f"spool full ({self.max_bytes} bytes, LAPOR_SPOOL_MAX_MB)")
        try:
            fd = self._open()
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
        except OSError as exc:
            raise SpoolError(exc.errno or 0, f"spool write failed: {exc.strerror or exc}") from exc
        self._lines += len(entries)
        self._disk_bytes += len(data)

    def disk_bytes(self) -> int:
        """Bytes of every segment in the directory (re-read at most once a second)."""
        now = time.monotonic()
        if now - self._disk_checked >= _SIZE_RECHECK_S:
            total = 0
            for seg in self._all_segments():
                with contextlib.suppress(OSError):
                    total += seg.stat().st_size
            self._disk_bytes, self._disk_checked = total, now
        return self._disk_bytes

    async def append(self, entries: list[SpoolEntry]) -> None:
        await asyncio.to_thread(self.append_sync, entries)

    def rotate(self) -> None:
        """Close the segment being written so that it can be flushed."""
        if self._fd is not None:
            os.close(self._fd)  # releases the flock
            self._fd = self._path = None
            self._lines = 0

    @property
    def writing(self) -> bool:
        return self._fd is not None and self._lines > 0

    # ------------------------------------------------------------------ reading
    def segments(self) -> list[Path]:
        if not self.dir.is_dir():
            return []
        return sorted(p for p in self.dir.iterdir() if p.suffix == ".jsonl" and p != self._path)

    def _all_segments(self) -> list[Path]:
        return [*self.segments(), *([self._path] if self._path else [])]

    def pending_count(self) -> int:
        """Entries waiting on disk (lines). Called by every /readyz and /metrics: a segment's lines are
        counted once and then only in what was appended since, so a spool of gigabytes after a long
        outage costs a ``stat`` per segment, not a read of the whole spool in the event loop."""
        total = 0
        seen: dict[Path, tuple[int, int]] = {}
        for seg in self._all_segments():
            try:
                size = seg.stat().st_size
                done, lines = self._counted.get(seg, (0, 0))
                if size < done:  # replaced: count again
                    done, lines = 0, 0
                if size > done:
                    with seg.open("rb") as f:
                        f.seek(done)
                        while done < size and (chunk := f.read(min(1 << 20, size - done))):
                            lines += chunk.count(b"\n")
                            done += len(chunk)
            except OSError:
                continue
            seen[seg] = (done, lines)
            total += lines
        self._counted = seen
        return total

    def has_pending(self) -> bool:
        return bool(self.segments()) or self.writing


def read_segment(path: Path) -> Iterator[SpoolEntry] | None:
    """Entries of a closed segment, or None when another live process still writes it."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    with os.fdopen(fd, "rb") as f:
        data = f.read()
    return _parse(data)


def _parse(data: bytes) -> Iterator[SpoolEntry]:
    for line in data.split(b"\n"):
        if not line.strip():
            continue
        try:
            doc = orjson.loads(line)
            yield SpoolEntry(doc["k"], doc["i"], doc["m"])
        except (orjson.JSONDecodeError, KeyError, TypeError):
            # a torn last line from a crash mid-write: never acknowledged to anyone
            continue


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
