"""The embedded Redis: a real ``redis-server`` the gateway starts, supervises and stops.

Used when ``LAPOR_REDIS_URL`` is unset. AOF is on (``appendfsync everysec``) with data in
``LAPOR_DATA_DIR/redis``; it listens on a unix socket (no TCP port to collide or expose) and
is stopped with SHUTDOWN (which rewrites nothing and flushes the AOF) when the gateway exits.
The binary comes from the OS package (``apt-get install redis-server``, done by ``make setup``)
or ``LAPOR_REDIS_SERVER_BIN``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import redis

from gateway.logging import get_logger

log = get_logger("gateway.redis_server")


class EmbeddedRedisError(RuntimeError):
    pass


def find_binary(explicit: str | None = None) -> str:
    for cand in (explicit, shutil.which("redis-server"), "/usr/bin/redis-server", "/usr/local/bin/redis-server"):
        if cand and os.path.exists(cand) and os.access(cand, os.X_OK):
            return cand
    raise EmbeddedRedisError(
        "redis-server not found: run `make setup` (installs the Debian package redis-server), "
        "set LAPOR_REDIS_SERVER_BIN, or point LAPOR_REDIS_URL at an existing Redis")


class EmbeddedRedis:
    def __init__(self, data_dir: Path, binary: str | None = None) -> None:
        self.dir = (data_dir / "redis").resolve()
        self.binary = find_binary(binary)
        self.socket = self.dir / "redis.sock"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    def start(self, timeout_s: float = 20.0) -> str:
        self.dir.mkdir(parents=True, exist_ok=True)
        if self.socket.exists() and self._ping():
            log.info("embedded_redis.reused", note="a server from an earlier run still answers")
            return self.url
        args = [
            self.binary, "--port", "0", "--unixsocket", str(self.socket), "--unixsocketperm", "700",
            "--dir", str(self.dir), "--appendonly", "yes", "--appendfsync", "everysec",
            "--save", "", "--daemonize", "no", "--logfile", str(self.dir / "redis-server.log"),
            "--pidfile", str(self.dir / "redis.pid"),
        ]
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise EmbeddedRedisError(f"redis-server exited with {self.proc.returncode}; "
                                         f"see {self.dir / 'redis-server.log'}")
            if self._ping():
                log.info("embedded_redis.started", pid=self.proc.pid, dir=str(self.dir))
                return self.url
            time.sleep(0.05)
        self.stop()
        raise EmbeddedRedisError(f"redis-server did not answer within {timeout_s:.0f}s")

    def _ping(self) -> bool:
        try:
            return bool(redis.Redis(unix_socket_path=str(self.socket), socket_timeout=0.5).ping())
        except redis.RedisError:
            return False

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        with contextlib.suppress(redis.RedisError):
            redis.Redis(unix_socket_path=str(self.socket), socket_timeout=5).shutdown(nosave=True)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=5)
        log.info("embedded_redis.stopped")
