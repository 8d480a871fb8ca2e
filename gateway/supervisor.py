"""Child processes of ``serve``: dispatcher workers (and extra HTTP processes), restarted when they die."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys

from gateway.logging import get_logger

log = get_logger("gateway.supervisor")


class WorkerSupervisor:
    def __init__(self, count: int, env: dict[str, str], *, args: list[str] | None = None, role: str = "worker",
                 nice: int = 0) -> None:
        self.count = count
        self.env = env
        self.args = args or ["worker"]
        self.role = role
        self.nice = nice  # > 0: the children yield the CPU to the HTTP processes under load
        self.procs: list[asyncio.subprocess.Process | None] = [None] * count
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    async def _spawn(self, i: int) -> None:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "gateway.cli", *self.args, env=self.env, stdin=asyncio.subprocess.DEVNULL)
        if self.nice:
            with contextlib.suppress(OSError):
                os.setpriority(os.PRIO_PROCESS, proc.pid, min(19, os.getpriority(os.PRIO_PROCESS, 0) + self.nice))
        self.procs[i] = proc
        log.info(f"{self.role}.started", index=i, pid=proc.pid)

    async def start(self) -> None:
        for i in range(self.count):
            await self._spawn(i)
        self._task = asyncio.create_task(self._watch(), name="worker-supervisor")

    async def _watch(self) -> None:
        backoff = [1.0] * self.count
        while not self._stopping:
            await asyncio.sleep(0.5)
            for i, proc in enumerate(self.procs):
                if proc is not None and proc.returncode is not None and not self._stopping:
                    log.warning(f"{self.role}.died", index=i, pid=proc.pid, code=proc.returncode)
                    await asyncio.sleep(backoff[i])
                    backoff[i] = min(backoff[i] * 2, 30.0)
                    await self._spawn(i)

    async def stop(self) -> None:
        self._stopping = True
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for proc in self.procs:
            if proc is not None and proc.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            if proc is None:
                continue
            try:
                await asyncio.wait_for(proc.wait(), timeout=10)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(proc.pid, signal.SIGKILL)
