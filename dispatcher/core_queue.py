"""Exactly-once enqueue into the national core RQ queue.

The job hash is built here, field for field as RQ 2/3's ``Queue.enqueue_many`` writes it
(``data`` = the JSON call ``[func, null, [record], {}]``, zlib'd only with
``LAPOR_CORE_JOB_COMPRESS``; RQ itself is not imported, so the HTTP process does not carry it and
a batch costs no ``Job`` objects; tests/test_core_worker.py runs a real ``rq worker`` on the result).

A batch commits in ONE script call (``commit.lua``): per record, the exactly-once marker
``lapor:enq:<id>`` is set with ``NX`` and only then are its job hash, its queue push and its own
follow-up commands (route, acknowledgement, hook state) written; then the batch's stream entries
are acknowledged (``XACK``). The follow-up commands are written by the usual ``pipe -> None``
callbacks against a :class:`CommandLog` that records them for the script. That is one round trip
and a third of the arguments redis-py used to pack for ``WATCH``/``MGET`` + ``MULTI`` with one
14-argument ``HSET`` per job. A batch whose callbacks run a script themselves (``EVAL`` cannot
run inside a script) takes the ``WATCH``/``MULTI`` path: a record another worker already
enqueued is only acknowledged there, and a concurrent attempt aborts the transaction.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from typing import Any

import orjson
import redis
import redis.asyncio as aioredis
from redis.commands.core import CoreCommands

from dispatcher import packed
from gateway import keys
from gateway.logging import get_logger

log = get_logger("dispatcher.core_queue")

MARKER_TTL_S = 30 * 24 * 3600
_LUA = resources.files("dispatcher").joinpath("commit.lua").read_text(encoding="utf-8")
_LUA_SHA = hashlib.sha1(_LUA.encode()).hexdigest()
_SCRIPTING = frozenset({"EVAL", "EVALSHA", "EVAL_RO", "EVALSHA_RO", "FCALL", "FCALL_RO"})


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


class CommandLog(CoreCommands):
    """Stands in for a pipeline: records the commands a ``pipe -> None`` callback queues, as the
    script's command block (count, then argument count and arguments per command)."""

    _event_dispatcher: Any = None  # declared abstract by redis-py's command mixins; never used here

    def __init__(self) -> None:
        self.count = 0
        self.args: list[Any] = []
        self.scripted = False  # a callback ran a script: the batch needs a real MULTI

    def execute_command(self, *args: Any, **_options: Any) -> None:
        if args[0] in _SCRIPTING:
            self.scripted = True
        self.count += 1
        self.args.append(len(args))
        self.args.extend(args)

    def block(self) -> list[Any]:
        return [self.count, *self.args]


class CoreQueue:
    def __init__(self, name: str, func: str, *, compress: bool = True) -> None:
        self.name = name
        self.func = func
        self.compress = compress
        self.key = f"rq:queue:{name}"
        self._func_json = orjson.dumps(func)
        self._head = b'[' + self._func_json + b',null,['

    def job_data(self, arg: Any) -> bytes:
        """RQ's ``data`` field: the JSON call ``[func, null, [arg], {}]``, zlib'd as RQ writes it
        when ``compress``; RQ reads it uncompressed too (a JSON array never passes zlib's header
        check, so ``Job.restore`` falls back to the raw bytes) and zlib is most of a job's cost."""
        data = self._head + orjson.dumps(arg) + b'],{}]'
        return zlib.compress(data, 1) if self.compress else data

    def script_head(self, stream: str, group: str, n: int) -> list[Any]:
        """The fixed ARGV of ``commit.lua`` for ``n`` records."""
        return [stream, group, keys.enqueued(""), MARKER_TTL_S, "rq:job:", self.key, RQ_QUEUES, self.name,
                rq_time(datetime.now(UTC)), RQ_DEFAULT_TIMEOUT, "complaint ", keys.ATTEMPTS, n]

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
        out: list[tuple[tuple[Any, ...], dict[str, Any]]] = [(("SADD", RQ_QUEUES, self.key), {})]
        for job_id, arg, description in jobs:
            data = self.job_data(arg)
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
    argv = core.script_head(stream, group, len(batch))
    for o in batch:
        cmds = CommandLog()
        for fn in o.extra:
            fn(cmds)
        if cmds.scripted:
            return await _commit_multi(r, core, batch, stream=stream, group=group, extra=extra)
        argv += (o.record["id"], core.job_data(o.record), cmds.count, *cmds.args)
    entry_ids = [e for o in batch for e in o.entry_ids]
    argv += (len(entry_ids), *entry_ids)
    cmds = CommandLog()
    if extra is not None:
        extra(cmds)
    if cmds.scripted:
        return await _commit_multi(r, core, batch, stream=stream, group=group, extra=extra)
    argv += (cmds.count, *cmds.args)
    try:
        res: Any = await packed.call(r, "EVALSHA", _LUA_SHA, 0, *argv)
    except redis.exceptions.NoScriptError:
        await r.script_load(_LUA)
        res = await packed.call(r, "EVALSHA", _LUA_SHA, 0, *argv)
    enqueued, failed = int(res[0]), int(res[1])
    if failed:  # as a MULTI would: the rest of the batch is committed; say which command kind failed
        err = res[2].decode("utf-8", "replace") if isinstance(res[2], bytes) else str(res[2])
        log.error("dispatcher.commit_command_failed", commands=failed, error=err.split(" ", 1)[0][:40])
    return enqueued, len(batch) - enqueued


async def _commit_multi(r: aioredis.Redis, core: CoreQueue, batch: list[Outgoing], *, stream: str,
                        group: str, extra: Callable[[Any], None] | None) -> tuple[int, int]:
    """``commit`` with ``WATCH`` on the markers and one ``MULTI``: for callbacks that run scripts."""
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
