"""The command line: status exit codes, replay of dead letters, re-normalizing a range."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis

from gateway import keys
from tests.support.procs import Proc, wait_ready
from tests.support.redis_proc import free_port

ROOT = Path(__file__).resolve().parents[1]


def run_cli(redis_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAPOR_")}
    env["LAPOR_REDIS_URL"] = redis_url
    return subprocess.run([sys.executable, "-m", "gateway.cli", *args], env=env, capture_output=True,
                          text=True, timeout=60, cwd=ROOT)


def test_status_fails_without_workers_and_passes_with_one(redis_url: str, rsync: redis.Redis):
    res = run_cli(redis_url, "status", "--json")
    assert res.returncode == 1
    doc = json.loads(res.stdout)
    assert doc["problems"] == ["no dispatcher worker alive"]
    assert doc["channels"]["api"].startswith("disabled")
    rsync.zadd(keys.WORKERS, {"w1": time.time()})
    res = run_cli(redis_url, "status")
    assert res.returncode == 0, res.stdout + res.stderr
    assert "workers_alive" in res.stdout


def test_status_fails_when_redis_is_unreachable():
    res = run_cli(f"redis://127.0.0.1:{free_port()}/0", "status", "--json")
    assert res.returncode == 1
    assert "redis unreachable" in json.loads(res.stdout)["problems"][0]


def test_replay_lists_and_requeues_dead_letters(redis_url: str, rsync: redis.Redis):
    rsync.xadd(keys.DEAD_STREAM, {"entry": "1-0", "id": "01JAAAAAAAAAAAAAAAAAAAAAAA", "msg": b"{}",
                                  "error": "ValueError: boom", "channel": "sms", "attempts": "5", "at": "x"})
    listed = run_cli(redis_url, "replay", "--list")
    assert listed.returncode == 0 and "ValueError: boom" in listed.stdout
    res = run_cli(redis_url, "replay")
    assert res.returncode == 0 and "replayed 1" in res.stderr
    assert rsync.xlen(keys.DEAD_STREAM) == 0
    ((_eid, fields),) = rsync.xrange(keys.INBOUND_STREAM)
    assert fields[b"id"] == b"01JAAAAAAAAAAAAAAAAAAAAAAA" and fields[b"replay_of"] == b"1-0"


@pytest.mark.slow
def test_readme_run_command_from_a_clean_clone(tmp_path: Path):
    """`make run` in a fresh clone: sets up its own venv and serves /readyz with the embedded Redis."""
    if shutil.which("git") is None or shutil.which("make") is None:
        pytest.skip("git and make are needed")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAPOR_") and k != "VIRTUAL_ENV"}
    env["LAPOR_HTTP_PORT"] = str(port)
    proc = Proc(["make", "run"], env, tmp_path / "make-run.log", cwd=clone)
    try:
        wait_ready(port, 600, proc)
    finally:
        proc.terminate()
    assert (clone / "var" / "redis" / "appendonlydir").is_dir()
