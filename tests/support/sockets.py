"""Which process owns the client end of a loopback TCP connection (Linux ``/proc``).

A fake provider sees only the client's source port; a multi-process test needs to know which
gateway process that was. The kernel's socket table gives the socket inode of the client end
(local port = the client's port, remote port = the fake's), and ``/proc/<pid>/fd`` which process
holds that inode.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterable

ESTABLISHED = "01"


def _inodes(client_port: int, server_port: int) -> set[str]:
    out: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError), open(table) as f:
            next(f, None)
            for line in f:
                cols = line.split()
                if len(cols) < 10 or cols[3] != ESTABLISHED:
                    continue
                local, remote = cols[1].rsplit(":", 1)[1], cols[2].rsplit(":", 1)[1]
                if int(local, 16) == client_port and int(remote, 16) == server_port:
                    out.add(cols[9])
    return out


def _with_descendants(pids: Iterable[int]) -> list[int]:
    out: list[int] = []
    todo = list(pids)
    while todo:
        pid = todo.pop()
        out.append(pid)
        with contextlib.suppress(OSError):
            for tid in os.listdir(f"/proc/{pid}/task"):
                with contextlib.suppress(OSError), open(f"/proc/{pid}/task/{tid}/children") as f:
                    todo.extend(int(c) for c in f.read().split())
    return out


def socket_owner(client_port: int, server_port: int, pids: Iterable[int]) -> int | None:
    """The pid among ``pids`` (or whose ancestor is among them) holding that client socket; the
    ancestor in ``pids`` is returned, so a process group counts as one process."""
    wanted = {f"socket:[{i}]" for i in _inodes(client_port, server_port)}
    if not wanted:
        return None
    for root in pids:
        for pid in _with_descendants([root]):
            with contextlib.suppress(OSError):
                for fd in os.listdir(f"/proc/{pid}/fd"):
                    with contextlib.suppress(OSError):
                        if os.readlink(f"/proc/{pid}/fd/{fd}") in wanted:
                            return root
    return None


class SocketOwners:
    """``Activity.who`` for a multi-process test: resolves a client port to one of ``pids``
    (read at call time, so processes started later count once added to ``pids``)."""

    def __init__(self, pids: Callable[[], Iterable[int]]) -> None:
        self.pids = pids

    def __call__(self, client_port: int, server_port: int) -> int | None:
        return socket_owner(client_port, server_port, list(self.pids()))
