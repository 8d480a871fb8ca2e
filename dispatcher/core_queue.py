"""Exactly-once enqueue into the national core RQ queue.

The job hash is built here, field for field as RQ 2/3's ``Queue.enqueue_many`` writes it
(``data`` = zlib of the JSON call ``[func, null, [record], {}]``; RQ itself is not imported, so
the HTTP process does not carry it and a batch costs no ``Job`` objects; tests/test_core_worker.py
runs a real ``rq worker`` on the result). The commands run inside our own ``MULTI`` together with
the exactly-once marker ``lapor:enq:<id>`` and the stream ``XACK``.
Before the transaction we ``WATCH`` the markers: a record another worker already enqueued is
only acknowledged, and a concurrent attempt aborts the transaction instead of enqueuing twice.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
import redis
import redis.asyncio as aioredis

from gateway import keys

MARKER_TTL_S = 30 * 24 * 3600


@dataclass
class Outgoing:
    """One record ready for the core, the stream entries it consumes and follow-up commands."""

    record: dict[str, Any]
    entry_ids: list[str] = field(default_factory=list)
    extra: list[Callable[[Any], None]] = field(default_factory=list)  # pipe -> None, run in the MULTI


RQ_QUEUES = "rq:queues"  # RQ's registry of queue keys
RQ_DEFAULT_TIMEOUT = 180  # RQ's default job timeout, written into every job hash as RQ does


def rq_time(t: datetime) -> str:
    """RQ's ``utcformat``."""
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class CoreQueue:
    def __init__(self, name: str, func: str) -> None:
        self.name = name
        self.func = func
        self.key = f"rq:queue:{name}"
        self._func_json = orjson.dumps(func)

    def enqueue_commands(self, records: list[dict[str, Any]]) -> list[tuple[tuple[Any, ...], dict[str, Any]]]:
        """The Redis commands that enqueue these records as RQ jobs (job id = record id)."""
        return self.job_commands([(rec["id"], rec, f"complaint {rec['id']}") for rec in records])

    def job_commands(self, jobs: list[tuple[str, Any, str]]) -> list[tuple[tuple[Any, ...], dict[str, Any]]]:
        """The Redis commands that enqueue ``(job id, only argument, description)`` jobs the way
        RQ's ``enqueue_many`` does: the queue in ``rq:queues``, one job hash each (no empty
        fields: RQ reads a missing field as empty), one RPUSH of all ids
        (also used for delivery-status jobs, dispatcher/delivery.py)."""
        if not jobs:
            return []
        now = rq_time(datetime.now(UTC))
        head = b'[' + self._func_json + b',null,['
        out: list[tuple[tuple[Any, ...], dict[str, Any]]] = [(("SADD", RQ_QUEUES, self.key), {})]
        for job_id, arg, description in jobs:
            data = zlib.compress(head + orjson.dumps(arg) + b'],{}]', 1)
            out.append((("HSET", f"rq:job:{job_id}", "created_at", now, "data", data, "origin", self.name,
                         "description", description, "enqueued_at", now, "timeout", RQ_DEFAULT_TIMEOUT,
                         "status", "queued"), {}))
        out.append((("RPUSH", self.key, *(j[0] for j in jobs)), {}))
        return out


async def commit(r: aioredis.Redis, core: CoreQueue, batch: list[Outgoing], *, stream: str,
                 group: str, extra: Callable[[Any], None] | None = None,
                 core_r: aioredis.Redis | None = None) -> tuple[int, int]:
    """Enqueue every record of ``batch`` not yet enqueued and XACK all their entries, atomically.

    Returns (enqueued, already_enqueued). Retries on a concurrent change to the markers.
    With the core queue on another Redis (``core_r``) the jobs and markers are committed there
    first and the acknowledgement follows on ``r``: still exactly once, because a re-run finds
    the markers.
    """
    if core_r is not None and core_r is not r:
        enq, seen = await commit(core_r, core, [Outgoing(o.record) for o in batch], stream=stream,
                                 group=group, extra=None)
        async with r.pipeline(transaction=True) as pipe:
            entry_ids = [e for o in batch for e in o.entry_ids]
            if entry_ids:
                pipe.xack(stream, group, *entry_ids)
                pipe.hdel(keys.ATTEMPTS, *entry_ids)
            for o in batch:
                for fn in o.extra:
                    fn(pipe)
            if extra is not None:
                extra(pipe)
            await pipe.execute()
        return enq, seen
    markers = [keys.enqueued(o.record["id"]) for o in batch]
    while True:
        async with r.pipeline(transaction=True) as pipe:
            try:
                exists: list[bool] = []
                if markers:
                    await pipe.watch(*markers)
                    # immediate mode while WATCHing: one MGET tells which records are already in the core
                    found: Any = await pipe.execute_command("MGET", *markers)
                    exists = [v is not None for v in found]
                todo = [o for o, seen in zip(batch, exists, strict=True) if not seen]
                pipe.multi()
                for args, opts in core.enqueue_commands([o.record for o in todo]) if todo else []:
                    pipe.execute_command(*args, **opts)
                for o in todo:
                    pipe.set(keys.enqueued(o.record["id"]), 1, ex=MARKER_TTL_S)
                    for fn in o.extra:
                        fn(pipe)
                entry_ids = [e for o in batch for e in o.entry_ids]
                if entry_ids:
                    pipe.xack(stream, group, *entry_ids)
                    pipe.hdel(keys.ATTEMPTS, *entry_ids)
                if extra is not None:
                    extra(pipe)
                await pipe.execute()
                return len(todo), len(batch) - len(todo)
            except redis.exceptions.WatchError:
                continue
