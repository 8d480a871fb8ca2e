"""The real ``lapor-gateway serve`` process under attack: unauthenticated compression bombs on
every route keep its resident memory bounded, and aiohttp's own error lines for over-long URLs
and headers (which quote the start of the request) reach the process log scrubbed."""

from __future__ import annotations

import gzip
import socket
import time
from pathlib import Path

import pytest

from channels import registry
from tests.support.procs import Proc, cli, gateway_env, wait_ready
from tests.support.rawhttp import exchange
from tests.support.redis_proc import RedisProc, free_port

NIK = "3201234567890001"
PHONE = "6281234567890"


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


@pytest.fixture
def served(redis_proc: RedisProc, redis_url: str, tmp_path: Path):
    port = free_port()
    env = gateway_env(redis_url, tmp_path / "data", port, LAPOR_OUTBOUND_TOKEN="test-outbound-token-0123",
                      LAPOR_LOG_LEVEL="info")
    proc = Proc(cli("serve", "--workers", "1"), env, tmp_path / "serve.log")
    try:
        wait_ready(port, 60, proc)
        yield proc, port
    finally:
        proc.terminate()


def _post(port: int, path: bytes, headers: bytes, body: bytes) -> bytes:
    return exchange(port, b"POST " + path + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: "
                    + str(len(body)).encode() + b"\r\n" + headers + b"\r\n" + body, 60)


def test_unauthenticated_bombs_on_every_route_keep_rss_bounded(served):
    proc, port = served
    paths = sorted({ep.path.encode() for ep in registry.endpoints()}
                   | {b"/outbound/messages", b"/admin/login", b"/admin/api/dead/replay"})
    bomb = gzip.compress(bytes(40 << 20), 9)  # 40 MiB inflated (over every limit), about 40 KB on the wire
    small = gzip.compress(b'{"a": 1}')
    for path in paths:  # warm up every handler (imports, buffers) before measuring
        _post(port, path, b"Content-Type: application/json\r\nContent-Encoding: gzip\r\n", small)
    before = _rss_kib(proc.pid)
    for _round in range(3):
        for path in paths:
            answer = _post(port, path, b"Content-Type: application/json\r\nContent-Encoding: gzip\r\n", bomb)
            status = int(answer.split()[1])
            assert status in (400, 401, 403, 413), f"{path!r}: {answer[:200]!r}"
    grown = _rss_kib(proc.pid) - before
    # before the limits counted the inflated size, four 40 KB bodies grew the process by 334 MB
    assert grown < 48 * 1024, f"RSS grew by {grown} KiB over {3 * len(paths)} bombs"
    assert proc.popen.poll() is None


def test_aiohttp_error_lines_are_scrubbed_in_the_serve_log(served, tmp_path: Path):
    proc, port = served
    long_url = f"/channels/sms/kannel?nik={NIK}&from=+{PHONE}&text=lapor+081298765432&" + "a" * 9000
    answer = exchange(port, f"GET {long_url} HTTP/1.1\r\nHost: x\r\n\r\n".encode(), 10)
    assert answer.startswith(b"HTTP/1.") and int(answer.split()[1]) == 400
    long_header = f"X-Note: {NIK} +{PHONE} budi@example.id {'b' * 9000}"
    answer = exchange(port, f"GET /healthz HTTP/1.1\r\nHost: x\r\n{long_header}\r\n\r\n".encode(), 10)
    assert int(answer.split()[1]) == 400
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:  # a request line that is not HTTP
        s.sendall(f"\x16\x03\x01 {NIK} +{PHONE}\r\n\r\n".encode())
        s.recv(1000)
    time.sleep(0.5)
    proc.terminate()
    log = proc.log.read_text(errors="replace")
    assert "Error handling request" in log and "<nik>" in log and "<phone>" in log, log[-3000:]
    for clear in (NIK, PHONE, "081298765432", "budi@example.id"):
        assert clear not in log, f"{clear} in the serve log"
