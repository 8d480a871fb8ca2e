"""Exactly-once enqueue into the national core RQ queue.

RQ's own code builds the job (so the hash is exactly what RQ workers expect), but it writes
into a *recording* pipeline that is never executed; its commands are replayed inside our own
``MULTI`` together with the exactly-once marker ``lapor:enq:<id>`` and the stream ``XACK``.
Before the transaction we ``WATCH`` the markers: a record another worker already enqueued is
only acknowledged, and a concurrent attempt aborts the transaction instead of enqueuing twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import redis
import redis.asyncio as aioredis
from rq import Queue
from rq.serializers import JSONSerializer

from gateway import keys

MARKER_TTL_S = 30 * 24 * 3600


@dataclass
class Outgoing:
    """One record ready for the core, the stream entries it consumes and follow-up commands."""

    record: dict[str, Any]
    entry_ids: list[str] = field(default_factory=list)
    extra: list[Callable[[Any], None]] = field(default_factory=list)  # pipe -> None, run in the MULTI


class CoreQueue:
    def __init__(self, name: str, func: str) -> None:
        self.name = name
        self.func = func
        # never connected: RQ only needs a client object to build commands on
        self._recorder = redis.Redis(host="127.0.0.1", port=1)
        self._queue = Queue(name, connection=self._recorder, serializer=JSONSerializer)
        self._queue.redis_server_version = (7, 0, 0)

    @property
    def key(self) -> str:
        return self._queue.key

    def enqueue_commands(self, records: list[dict[str, Any]]) -> list[tuple[tuple[Any, ...], dict[str, Any]]]:
        """The Redis commands RQ would run to enqueue these records (job id = record id)."""
        return self.job_commands([(rec["id"], rec, f"complaint {rec['id']}") for rec in records])

    def job_commands(self, jobs: list[tuple[str, Any, str]]) -> list[tuple[tuple[Any, ...], dict[str, Any]]]:
        """The Redis commands RQ would run to enqueue ``(job id, only argument, description)`` jobs
        (also used for delivery-status jobs, dispatcher/delivery.py)."""
        pipe = self._recorder.pipeline(transaction=True)
        datas = [
            Queue.prepare_data(self.func, args=(arg,), job_id=job_id, timeout=None, result_ttl=None,
                               ttl=None, failure_ttl=None, description=description)
            for job_id, arg, description in jobs
        ]
        self._queue.enqueue_many(datas, pipeline=pipe)
        return _compact([(tuple(_plain(a) for a in args), opts) for args, opts in pipe.command_stack])


def _compact(commands: list[tuple[tuple[Any, ...], dict[str, Any]]]) -> list[tuple[tuple[Any, ...], dict[str, Any]]]:
    """Same effect, fewer commands: RQ sets ``status`` once alone and again in the full job hash,
    and pushes each job id separately; drop the first and push all ids of a queue at once."""
    out: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
    pushes: dict[Any, list[Any]] = {}
    for args, opts in commands:
        name = str(args[0]).upper()
        if name == "HSET" and len(args) == 4 and args[2] == "status":
            continue  # the HSET of the whole job that follows carries the same status
        if name == "RPUSH" and not opts:
            pushes.setdefault(args[1], []).extend(args[2:])
            continue
        out.append((args, opts))
    out.extend((("RPUSH", key, *ids), {}) for key, ids in pushes.items())
    return out


def _plain(value: Any) -> Any:
    # RQ passes enum members (JobStatus) as values; give redis-py their string value
    return getattr(value, "value", value) if not isinstance(value, str | bytes | int | float) else value


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
