"""A reusable loopback load generator for any gateway endpoint.

Lean on purpose (raw asyncio streams, HTTP/1.1 keep-alive, no client library) so that on a
2-core machine the generator costs as little CPU as possible next to the gateway it measures.

    from bench.loadgen import Target, run_load
    target = Target(port=8708, path="/channels/http/complaints",
                    body=lambda i: json.dumps({...}).encode(),
                    headers=lambda body: {"Authorization": "Bearer x"})   # signatures: computed per body
    result = run_load_blocking(target, duration_s=60, rate=2000, connections=32)   # on uvloop
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Target:
    port: int
    path: str
    body: Callable[[int], bytes]
    headers: Callable[[bytes], dict[str, str]] = lambda _b: {}
    method: str = "POST"
    host: str = "127.0.0.1"
    content_type: str = "application/json"
    ok_status: tuple[int, ...] = (200, 201, 202, 204)


@dataclass
class LoadResult:
    sent: int = 0
    ok: int = 0
    failed: int = 0
    duration_s: float = 0.0
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.ok / self.duration_s if self.duration_s else 0.0

    def pct(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        data = sorted(self.latencies)
        return data[min(len(data) - 1, int(p / 100 * len(data)))]

    def summary(self) -> dict[str, float]:
        return {"ok": self.ok, "failed": self.failed, "rate": round(self.rate, 1),
                "p50_ms": round(self.pct(50) * 1000, 2), "p99_ms": round(self.pct(99) * 1000, 2),
                "mean_ms": round(statistics.fmean(self.latencies) * 1000, 2) if self.latencies else 0.0}


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    length = 0
    for line in lines[1:]:
        if line[:15].lower() == b"content-length:":
            length = int(line[15:].strip())
    if length:
        await reader.readexactly(length)
    return status


async def run_load(target: Target, *, duration_s: float, rate: float | None = None, connections: int = 32,
                   start_index: int = 0) -> LoadResult:
    """Closed loop (``rate`` None: as fast as ``connections`` allow) or open loop at ``rate`` req/s."""
    result = LoadResult()
    counter = iter(range(start_index, 10**12))
    t0 = time.perf_counter()
    t_end = t0 + duration_s
    interval = connections / rate if rate else 0.0

    async def conn_loop(k: int) -> None:
        reader, writer = await asyncio.open_connection(target.host, target.port)
        next_at = t0 + (k * interval / connections if interval else 0)
        try:
            while True:
                now = time.perf_counter()
                if now >= t_end:
                    break
                if interval:
                    if next_at > now:
                        await asyncio.sleep(next_at - now)
                    next_at += interval
                i = next(counter)
                body = target.body(i)
                hdrs = {"Host": f"{target.host}:{target.port}", "Content-Type": target.content_type,
                        "Content-Length": str(len(body)), **target.headers(body)}
                req = (f"{target.method} {target.path} HTTP/1.1\r\n" +
                       "".join(f"{h}: {v}\r\n" for h, v in hdrs.items()) + "\r\n").encode() + body
                start = time.perf_counter()
                result.sent += 1
                try:
                    writer.write(req)
                    status = await _read_response(reader)
                except (OSError, asyncio.IncompleteReadError, ValueError):
                    result.failed += 1
                    writer.close()
                    reader, writer = await asyncio.open_connection(target.host, target.port)
                    continue
                result.statuses[status] = result.statuses.get(status, 0) + 1
                if status in target.ok_status:
                    result.ok += 1
                    result.latencies.append(time.perf_counter() - start)
                else:
                    result.failed += 1
        finally:
            writer.close()

    await asyncio.gather(*(conn_loop(k) for k in range(connections)))
    result.duration_s = time.perf_counter() - t0
    return result


def run_load_blocking(target: Target, *, duration_s: float, rate: float | None = None, connections: int = 32,
                      start_index: int = 0) -> LoadResult:
    """``run_load`` on uvloop: the generator shares the machine with what it measures, so it
    spends as little CPU per request as the gateway's own loop does."""
    import uvloop

    return uvloop.run(run_load(target, duration_s=duration_s, rate=rate, connections=connections,
                               start_index=start_index))
