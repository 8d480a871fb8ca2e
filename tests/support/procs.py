"""Real gateway and worker processes for crash and restart tests (kill -9 included)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.support.fixtures import OFFLINE, TOKENS


def gateway_env(redis_url: str | None, data_dir: Path, port: int, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAPOR_")}
    env.update({f"LAPOR_{k.upper()}": v for k, v in {**TOKENS, **OFFLINE}.items()})  # never off loopback
    env.update(LAPOR_DATA_DIR=str(data_dir), LAPOR_HTTP_PORT=str(port), LAPOR_HTTP_HOST="127.0.0.1",
               LAPOR_LOG_FORMAT="json", LAPOR_CLAIM_IDLE_MS="1000", PYTHONUNBUFFERED="1",
               LAPOR_COMPLETENESS_WAIT_S="0")  # hold-and-ask tests pass their own wait
    if redis_url:
        env["LAPOR_REDIS_URL"] = redis_url
    env.update(extra)
    return env


class Proc:
    """A child process in its own session, so kill -9 reaches it and its children."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path, cwd: Path | None = None) -> None:
        self.log = log
        self.out = log.open("ab")
        self.popen = subprocess.Popen(args, env=env, cwd=cwd, stdout=self.out, stderr=subprocess.STDOUT,
                                      stdin=subprocess.DEVNULL, start_new_session=True)

    @property
    def pid(self) -> int:
        return self.popen.pid

    def kill9(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGKILL)
        self.popen.wait(timeout=10)
        self.out.close()

    def terminate(self, timeout: float = 20) -> int:
        if self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGTERM)  # the whole group: `make run` and its child
            try:
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill9()
        self.out.close()
        return self.popen.returncode

    def tail(self, n: int = 20) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "gateway.cli", *args]


def wait_ready(port: int, timeout: float = 30, proc: Proc | None = None) -> None:
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        if proc is not None and proc.popen.poll() is not None:
            raise AssertionError(f"process exited ({proc.popen.returncode}):\n{proc.tail()}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as resp:
                if resp.status == 200:
                    return
        except Exception as exc:
            last = str(exc)
        time.sleep(0.1)
    raise AssertionError(f"/readyz not 200 within {timeout}s ({last})\n{proc.tail() if proc else ''}")
