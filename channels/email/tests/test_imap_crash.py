"""kill -9 of the gateway while the IMAP poller ingests: after a restart nothing is lost or doubled.

Slow (a real ``lapor-gateway serve`` process, killed and restarted, and the poller lease of the
dead process has to expire): ``pytest -m slow channels/email/tests/test_imap_crash.py``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from channels.email.tests.peers import IMAP_PASSWORD, IMAP_USER, PymapServer, free_port

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
N = 240
pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]


@pytest.fixture
def pymap_server(tmp_path: Path) -> Iterator[PymapServer]:
    server = PymapServer(tmp_path).start()
    yield server
    server.stop()


def serve(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", "from gateway.cli import main; main()", "serve"],
                            env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT, start_new_session=True)


def test_kill_9_mid_ingest_loses_and_doubles_nothing(pymap_server, redis_url, rsync, tmp_path):
    raws = [(FIXTURES / n).read_bytes() for n in ("citizen-plain.eml", "gmail-forward-en.eml", "windows-1252.eml")]
    c = pymap_server.client()
    c.create_folder("Crash")
    for i in range(N):
        raw = raws[i % 3].replace(b"Message-ID: <", b"Message-ID: <crash-%d-" % i, 1)
        c.append("Crash", raw.replace(b"\n", b"\r\n"))
    c.logout()
    env = dict(os.environ, LAPOR_REDIS_URL=redis_url, LAPOR_DATA_DIR=str(tmp_path / "data"),
               LAPOR_HTTP_PORT=str(free_port()), LAPOR_WORKERS="0", LAPOR_IMAP_HOST="127.0.0.1",
               LAPOR_IMAP_PORT=str(pymap_server.port), LAPOR_IMAP_USER=IMAP_USER, LAPOR_IMAP_PASSWORD=IMAP_PASSWORD,
               LAPOR_IMAP_TLS="none", LAPOR_IMAP_FOLDER="Crash", LAPOR_IMAP_PROCESSED_FOLDER="Crash-done",
               LAPOR_IMAP_BACKOFF_S="0.2", LAPOR_LOG_FORMAT="json")
    log = tmp_path / "gateway.log"
    proc = serve(env, log)
    try:
        deadline = time.monotonic() + 60
        while rsync.xlen("lapor:inbound") < N // 4 and time.monotonic() < deadline:
            time.sleep(0.01)
        os.killpg(proc.pid, signal.SIGKILL)  # mid-batch, between store, checkpoint and move
        proc.wait(10)
        stored_at_kill = rsync.xlen("lapor:inbound")
        assert 0 < stored_at_kill < N, "kill came too late to prove anything"
        proc = serve(env, log)
        deadline = time.monotonic() + 120  # the dead process's lease (30 s) expires first
        while rsync.xlen("lapor:inbound") < N and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(1.0)
        entries = rsync.xrange("lapor:inbound")
        ids = [orjson.loads(f[b"msg"])["native_id"] for _e, f in entries]
        assert len(ids) == N and len(set(ids)) == N, (len(ids), len(set(ids)))
        c = pymap_server.client()
        c.select_folder("Crash", readonly=True)
        left = c.search("ALL")
        c.select_folder("Crash-done", readonly=True)
        done = c.search("ALL")
        c.logout()
        assert left == [] and len(done) == N
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(20)
