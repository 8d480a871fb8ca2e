"""A real Redis Sentinel deployment on loopback: one primary, one replica, three sentinels.

Quick failover settings (down-after 1 s, failover-timeout 4 s) so that a kill -9 of the primary
is followed by a promotion within a few seconds.
"""

from __future__ import annotations

import contextlib
import signal
import subprocess
import time
from pathlib import Path

import redis

from tests.support.redis_proc import free_port, redis_binary

SERVICE = "mymaster"


class Node:
    """One ``redis-server`` (data node or sentinel) that can be killed and started again."""

    def __init__(self, name: str, args: list[str], directory: Path, port: int) -> None:
        self.name, self.args, self.dir, self.port = name, args, directory, port
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Node:
        self.dir.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen([redis_binary(), *self.args], cwd=self.dir, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, start_new_session=True)
        client = self.client(timeout=1)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            with contextlib.suppress(redis.RedisError):
                if client.ping():
                    return self
            time.sleep(0.05)
        raise RuntimeError(f"{self.name} on {self.port} did not start")

    def kill9(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill9()

    def restart_as_replica_of(self, port: int) -> Node:
        """Bring a failed node back as a replica of the current primary (what an operator does)."""
        args = list(self.args)
        if "--replicaof" in args:
            i = args.index("--replicaof")
            del args[i:i + 3]
        self.args = [*args, "--replicaof", "127.0.0.1", str(port)]
        return self.start()

    def client(self, timeout: float = 5) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=timeout)


class SentinelDeployment:
    def __init__(self, directory: Path, down_after_ms: int = 1000, failover_timeout_ms: int = 4000) -> None:
        self.dir = directory
        p1, p2 = free_port(), free_port()
        common = ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no",
                  "--logfile", "redis.log"]
        self.nodes = [Node("redis-a", ["--port", str(p1), *common], directory / "a", p1),
                      Node("redis-b", ["--port", str(p2), *common, "--replicaof", "127.0.0.1", str(p1)],
                           directory / "b", p2)]
        self.sentinels: list[Node] = []
        for i in range(3):
            port = free_port()
            sdir = directory / f"sentinel{i}"
            sdir.mkdir(parents=True, exist_ok=True)
            conf = sdir / "sentinel.conf"
            conf.write_text(
                f"port {port}\nbind 127.0.0.1\ndaemonize no\nlogfile sentinel.log\ndir {sdir}\n"
                f"sentinel monitor {SERVICE} 127.0.0.1 {p1} 2\n"
                f"sentinel down-after-milliseconds {SERVICE} {down_after_ms}\n"
                f"sentinel failover-timeout {SERVICE} {failover_timeout_ms}\n"
                f"sentinel parallel-syncs {SERVICE} 1\n")
            self.sentinels.append(Node(f"sentinel{i}", [str(conf), "--sentinel"], sdir, port))

    @property
    def sentinel_setting(self) -> str:
        """The value of ``LAPOR_REDIS_SENTINELS``."""
        return ",".join(f"127.0.0.1:{s.port}" for s in self.sentinels)

    def start(self) -> SentinelDeployment:
        for n in self.nodes:
            n.start()
        self.wait_replication(self.nodes[0], self.nodes[1])
        for s in self.sentinels:
            s.start()
        self.wait(lambda: all(self._sees_replica_and_peers(s) for s in self.sentinels), 30,
                  "sentinels did not discover the replica and each other")
        return self

    def stop(self) -> None:
        for n in [*self.sentinels, *self.nodes]:
            n.stop()

    def primary_port(self) -> int:
        """The primary's port as the sentinels' majority names it."""
        ports = []
        for s in self.sentinels:
            with contextlib.suppress(redis.RedisError):
                addr = s.client(1).sentinel_get_master_addr_by_name(SERVICE)
                if addr:
                    ports.append(int(addr[1]))
        if not ports:
            raise RuntimeError("no sentinel answered")
        return max(set(ports), key=ports.count)

    def node(self, port: int) -> Node:
        return next(n for n in self.nodes if n.port == port)

    def wait_promotion(self, old_port: int, timeout: float = 30) -> Node:
        """Wait until the sentinels name another primary and that node answers as one."""
        def promoted() -> bool:
            port = self.primary_port()
            if port == old_port:
                return False
            with contextlib.suppress(redis.RedisError):
                return bool(self.node(port).client(1).info("replication")["role"] == "master")
            return False
        self.wait(promoted, timeout, "the replica was not promoted")
        return self.node(self.primary_port())

    @staticmethod
    def wait_replication(primary: Node, replica: Node, timeout: float = 30) -> None:
        def linked() -> bool:
            with contextlib.suppress(redis.RedisError):
                info = replica.client(1).info("replication")
                return bool(info.get("master_link_status") == "up" and info.get("master_port") == primary.port)
            return False
        SentinelDeployment.wait(linked, timeout, f"{replica.name} did not sync from {primary.name}")

    def _sees_replica_and_peers(self, s: Node) -> bool:
        with contextlib.suppress(redis.RedisError):
            master = s.client(1).sentinel_master(SERVICE)
            return int(master.get("num-slaves", 0)) >= 1 and int(master.get("num-other-sentinels", 0)) >= 2
        return False

    @staticmethod
    def wait(check, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if check():
                return
            time.sleep(0.1)
        raise AssertionError(what)
