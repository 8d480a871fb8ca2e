"""Local, fsync'd spool for messages that arrive while Redis is unreachable.

Segments are append-only JSON-lines files under ``<data dir>/spool``; each process writes its
own segment under an exclusive ``flock`` so that any process (this one, or the next one after a
crash) can flush closed segments without racing a writer. A segment is deleted only after every
entry in it is in Redis; replaying a segment twice is harmless because intake deduplicates.
"""

from __future__ import annotations

import asyncio
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


class Spool:
    def __init__(self, directory: Path) -> None:
        self.dir = directory
        self._fd: int | None = None
        self._path: Path | None = None
        self._lines = 0

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

    def pending_count(self) -> int:
        """Entries waiting on disk (approximate: counts lines)."""
        total = 0
        for seg in [*self.segments(), *([self._path] if self._path else [])]:
            try:
                with seg.open("rb") as f:
                    total += sum(1 for _ in f)
            except OSError:
                continue
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
