"""``serve --http-processes 2``: two processes accept on one port (SO_REUSEPORT) and both serve.

Which process owns the server side of a connection is read from the kernel (``/proc/net/tcp``
and the processes' file descriptors), not from anything the gateway says about itself.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import time
from pathlib import Path

from tests.support.procs import Proc, cli, gateway_env
from tests.support.redis_proc import RedisProc, free_port


def _children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError):
                if int((entry / "stat").read_text().split(") ")[1].split()[1]) == pid:
                    out.append(int(entry.name))
    return out


def _cmdline(pid: int) -> list[str]:
    return (Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0"))


def _owner(server_port: int, client_port: int, pids: list[int]) -> int | None:
    """The pid whose descriptor table holds the server side of the connection from ``client_port``."""
    inode = None
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                f = line.split()
                if int(f[1].rsplit(":", 1)[1], 16) == server_port and int(f[2].rsplit(":", 1)[1], 16) == client_port:
                    inode = f[9]
    if inode is None:
        return None
    for pid in pids:
        with contextlib.suppress(OSError):
            for fd in os.listdir(f"/proc/{pid}/fd"):
                with contextlib.suppress(OSError):
                    if os.readlink(f"/proc/{pid}/fd/{fd}") == f"socket:[{inode}]":
                        return pid
    return None


def test_two_http_processes_both_serve_on_one_port(tmp_path: Path):
    redis_proc = RedisProc(tmp_path / "redis").start()
    port = free_port()
    env = gateway_env(redis_proc.url, tmp_path / "data", port, LAPOR_TWITTER_POLL="false")
    gw = Proc(cli("serve", "--http-processes", "2", "--workers", "0"), env, tmp_path / "serve.log")
    try:
        deadline = time.monotonic() + 40
        http_children: list[int] = []
        while time.monotonic() < deadline:
            http_children = [p for p in _children(gw.pid) if "http" in _cmdline(p)]
            if http_children:
                break
            time.sleep(0.1)
        assert len(http_children) == 1, f"one extra HTTP process: {gw.tail()}"
        pids = [gw.pid, *http_children]
        owners: dict[int, int] = {}
        while time.monotonic() < deadline and len(owners) < 2:
            for _ in range(40):
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                try:
                    conn.request("GET", "/healthz")
                    resp = conn.getresponse()
                    body = json.loads(resp.read())
                    if resp.status != 200:
                        continue
                    assert body["status"] == "alive"
                    owner = _owner(port, conn.sock.getsockname()[1], pids)
                    if owner is not None:
                        owners[owner] = owners.get(owner, 0) + 1
                except (OSError, http.client.HTTPException):
                    time.sleep(0.1)  # the extra process is still starting
                finally:
                    conn.close()
        assert set(owners) == set(pids), f"both processes answered connections on :{port}: {owners}"
        # and the extra process takes real traffic: a complaint accepted through whichever answers
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        conn.request("POST", "/channels/http/complaints", body=json.dumps(
            {"id": "rp-1", "text": "Jalan rusak di depan pasar", "reporter": {"phone": "081234567890"}}),
            headers={"Authorization": "Bearer test-http-token", "Content-Type": "application/json"})
        assert conn.getresponse().status == 202
        conn.close()
        assert redis_proc.client().xlen("lapor:inbound") == 1
    finally:
        gw.terminate()
        redis_proc.stop()
    for pid in pids[1:]:
        assert not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text().split(") ")[1][:2], \
            "the extra HTTP process stops with serve"
