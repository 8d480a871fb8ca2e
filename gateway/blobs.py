"""Content-addressed storage for attachment bytes (email attachments, fetched Meta/Telegram media).

The key is the sha256 of the bytes, so storing the same photo twice costs nothing and a record
can reference bytes by ``ref`` forever. ``BlobStore`` is the interface; ``FileBlobStore`` keeps
files under ``<data dir>/blobs/ab/cd/<sha256>``; an object store (S3/MinIO) implements the same
three methods.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol


class BlobTooLarge(ValueError):
    pass


@dataclass(frozen=True)
class StoredBlob:
    sha256: str
    size: int
    ref: str  # opaque key: "sha256:<hex>"


class BlobStore(Protocol):
    async def put(self, data: bytes) -> StoredBlob: ...

    async def get(self, ref: str) -> bytes: ...

    async def exists(self, ref: str) -> bool: ...


class FileBlobStore:
    def __init__(self, root: Path, max_bytes: int) -> None:
        self.root = root
        self.max_bytes = max_bytes

    def _path(self, sha: str) -> Path:
        return self.root / sha[:2] / sha[2:4] / sha

    @staticmethod
    def _sha(ref: str) -> str:
        sha = ref.removeprefix("sha256:")
        if len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha):
            raise ValueError(f"not a blob ref: {ref!r}")
        return sha

    def put_sync(self, data: bytes) -> StoredBlob:
        if len(data) > self.max_bytes:
            raise BlobTooLarge(f"{len(data)} bytes exceeds the blob limit of {self.max_bytes}")
        sha = hashlib.sha256(data).hexdigest()
        path = self._path(sha)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            try:
                with os.fdopen(fd, "wb") as f:
                    f.write(data)
                    f.flush()
                    os.fsync(f.fileno())
                os.replace(tmp, path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        return StoredBlob(sha, len(data), f"sha256:{sha}")

    async def put(self, data: bytes) -> StoredBlob:
        return await asyncio.to_thread(self.put_sync, data)

    async def get(self, ref: str) -> bytes:
        return await asyncio.to_thread(self._path(self._sha(ref)).read_bytes)

    async def exists(self, ref: str) -> bool:
        return self._path(self._sha(ref)).exists()
