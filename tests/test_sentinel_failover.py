"""Redis Sentinel failover under load, against the real ``lapor-gateway serve``.

One primary, one replica, three sentinels (``redis-server --sentinel``) on loopback. A steady,
bounded load goes to the generic JSON channel; the primary is killed with SIGKILL; Sentinel
promotes the replica; the gateway and its worker follow the new primary on their own.

- ``LAPOR_REDIS_WAIT_REPLICAS=1``: every request that got a 2xx is in the core queue exactly once,
  and no request got a 5xx (intake spools while there is no primary, or no replica to confirm).
- without it: what can be lost is what the primary acknowledged but had not yet sent to the
  replica when it died; the test does the accounting and prints the numbers.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import pytest

from bench.complaints import api_body
from tests.support.core import core_job_ids
from tests.support.procs import Proc, cli, gateway_env, wait_ready
from tests.support.redis_proc import free_port
from tests.support.sentinel import Node, SentinelDeployment

AUTH = {"Authorization": "Bearer test-http-token", "Content-Type": "application/json"}


@dataclass
class Answers:
    ok: dict[str, str] = field(default_factory=dict)  # request id -> record id, for every 2xx
    ok_at: dict[str, float] = field(default_factory=dict)  # record id -> when the 2xx arrived
    server_errors: int = 0
    other: dict[str, int] = field(default_factory=dict)
    latencies: list[tuple[float, float]] = field(default_factory=list)  # (start, seconds)


async def _load(port: int, prefix: str, stop: threading.Event, clients: int = 6, pause_s: float = 0.02) -> Answers:
    """Each client posts distinct complaints, one at a time with a short pause (bounded rate);
    a failed request is retried as a provider would, with the same id."""
    out = Answers()
    counter = iter(range(10**9))

    async def client(session: aiohttp.ClientSession) -> None:
        while not stop.is_set():
            i = next(counter)
            body = api_body(prefix, i)
            for _attempt in range(20):
                t0 = time.monotonic()
                try:
                    async with session.post(f"http://127.0.0.1:{port}/channels/http/complaints", data=body,
                                            headers=AUTH, timeout=aiohttp.ClientTimeout(total=10)) as resp:
                        out.latencies.append((t0, time.monotonic() - t0))
                        if resp.status in (200, 202):
                            rid = (await resp.json())["id"]
                            out.ok[f"{prefix}-{i}"] = rid
                            out.ok_at[rid] = time.monotonic()
                            break
                        if resp.status >= 500:
                            out.server_errors += 1
                        out.other[str(resp.status)] = out.other.get(str(resp.status), 0) + 1
                except (TimeoutError, aiohttp.ClientError) as exc:
                    out.other[type(exc).__name__] = out.other.get(type(exc).__name__, 0) + 1
                await asyncio.sleep(0.2)
            await asyncio.sleep(pause_s)

    async with aiohttp.ClientSession() as session:
        await asyncio.gather(*(client(session) for _ in range(clients)))
    return out


def _flushed(log: Path) -> tuple[int, int]:
    """(messages flushed from the spool, intake batches that hit Redis errors or WAIT shortfalls)."""
    flushed = errors = 0
    for line in log.read_text(errors="replace").splitlines():
        try:
            doc = json.loads(line)
        except ValueError:
            continue
        if doc.get("event") == "spool.flushed":
            flushed += int(doc.get("entries", 0))
        if doc.get("event") in ("intake.redis_unavailable", "intake.not_replicated"):
            errors += 1
    return flushed, errors


def _break_replication(primary: Node, replica: Node, gap_s: float = 0.3) -> float:
    """Cut the replica off (a wrong ``masterauth`` keeps it from reconnecting) and return once the
    primary has run ``gap_s`` with no replica: what it acknowledges meanwhile exists nowhere else."""
    replica.client().config_set("masterauth", "not-the-password")
    client = primary.client()
    client.client_kill_filter(_type="replica")
    started = time.monotonic()
    time.sleep(gap_s)
    assert int(client.info("replication")["connected_slaves"]) == 0, "the replica is still connected"
    return started


def _failover_run(tmp_path: Path, wait_replicas: int) -> dict[str, object]:
    dep = SentinelDeployment(tmp_path / "sentinel").start()
    port = free_port()
    env = gateway_env(None, tmp_path / "data", port, LAPOR_REDIS_SENTINELS=dep.sentinel_setting,
                      LAPOR_REDIS_WAIT_REPLICAS=str(wait_replicas), LAPOR_ACK_ENABLED="false",
                      LAPOR_TWITTER_POLL="false", LAPOR_SPOOL_FLUSH_INTERVAL_S="0.2", LAPOR_WORKERS="1")
    gw = Proc(cli("serve"), env, tmp_path / "serve.log")
    stop = threading.Event()
    result: dict[str, Answers] = {}
    try:
        wait_ready(port, 40, gw)
        loader = threading.Thread(target=lambda: result.setdefault("a", asyncio.run(
            _load(port, f"w{wait_replicas}", stop))))
        loader.start()
        time.sleep(3)
        old = dep.node(dep.primary_port())
        # the worst moment to die: the replica link has just broken (a network blip), so what the
        # primary acknowledges now exists nowhere else
        unlinked_at = _break_replication(old, next(n for n in dep.nodes if n is not old))
        killed_at = time.monotonic()
        old.kill9()
        new = dep.wait_promotion(old.port, timeout=40)
        promoted_s = time.monotonic() - killed_at
        time.sleep(2)
        if wait_replicas:
            # with one replica left there is nobody to confirm WAIT: the operator brings the dead
            # node back as a replica, and the spool drains into the new primary
            old.restart_as_replica_of(new.port)
            dep.wait_replication(new, old)
        time.sleep(2)
        stop.set()
        loader.join(timeout=60)
        answers = result["a"]
        core = new.client()
        deadline = time.monotonic() + 60
        wanted = set(answers.ok.values())
        while time.monotonic() < deadline:
            if wanted <= set(core_job_ids(core)) and not list((tmp_path / "data" / "spool").glob("*.jsonl")):
                break
            time.sleep(0.2)
        drained_s = time.monotonic() - killed_at
        jobs = core_job_ids(core)
        flushed, error_batches = _flushed(tmp_path / "serve.log")
        around = sorted(d for t0, d in answers.latencies if killed_at - 1 <= t0 <= killed_at + promoted_s + 2)
        return {"answers": answers, "jobs": jobs, "unlinked_at": unlinked_at, "killed_at": killed_at,
                "promoted_s": round(promoted_s, 1),
                "drained_s": round(drained_s, 1), "flushed": flushed, "error_batches": error_batches,
                "p99_failover_ms": round(around[int(0.99 * (len(around) - 1))] * 1000) if around else None,
                "requests_in_failover": len(around)}
    finally:
        stop.set()
        gw.terminate()
        dep.stop()


@pytest.mark.slow
def test_failover_with_wait_replicas_keeps_every_acknowledged_request_exactly_once(tmp_path: Path):
    run = _failover_run(tmp_path, wait_replicas=1)
    answers: Answers = run["answers"]  # type: ignore[assignment]
    jobs: list[str] = run["jobs"]  # type: ignore[assignment]
    print(f"\nWAIT=1: {len(answers.ok)} acknowledged, promoted after {run['promoted_s']} s, all in the core "
          f"after {run['drained_s']} s, {run['flushed']} flushed from the spool, {run['error_batches']} intake "
          f"batches spooled, p99 around the failover {run['p99_failover_ms']} ms over "
          f"{run['requests_in_failover']} requests, other answers {answers.other}")
    assert len(answers.ok) > 300, "the load ran"
    assert answers.server_errors == 0, f"a provider saw a 5xx: {answers.other}"
    assert run["flushed"] > 0, "the failover window really went through the spool"
    missing = set(answers.ok.values()) - set(jobs)
    assert not missing, f"{len(missing)} acknowledged requests are not in the core queue"
    assert len(jobs) == len(set(jobs)), "no record twice in the core queue"


@pytest.mark.slow
def test_failover_without_wait_shows_what_can_be_lost(tmp_path: Path):
    run = _failover_run(tmp_path, wait_replicas=0)
    answers: Answers = run["answers"]  # type: ignore[assignment]
    jobs: list[str] = run["jobs"]  # type: ignore[assignment]
    lost = set(answers.ok.values()) - set(jobs)
    print(f"\nWAIT=0: {len(answers.ok)} acknowledged, {len(lost)} lost (acknowledged by the old primary, "
          f"not yet replicated), promoted after {run['promoted_s']} s, {run['flushed']} flushed from the "
          f"spool, p99 around the failover {run['p99_failover_ms']} ms, other answers {answers.other}")
    assert len(answers.ok) > 300
    assert answers.server_errors == 0, "the spool still covers the window without a primary"
    assert len(jobs) == len(set(jobs)), "no record twice in the core queue"
    # the accounting: every acknowledged request is either in the core queue or among the lost,
    # and the lost ones can only be those answered before the kill (replication is asynchronous)
    assert len(set(answers.ok.values()) & set(jobs)) + len(lost) == len(answers.ok)
    assert lost, "acknowledged while the primary had no replica, then the primary died: lost"
    late = [rid for rid in lost if not run["unlinked_at"] - 0.05 <= answers.ok_at[rid] <= run["killed_at"] + 0.05]
    assert not late, "only what was acknowledged while no replica was connected can be lost"
