"""Helpers of the two-way tests: the core's status jobs read back with RQ itself."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import redis
import redis.asyncio as aioredis
from rq.job import Job
from rq.serializers import JSONSerializer

from channels import registry
from channels.sms.tests.test_kannel import get_url
from dispatcher.outbound_worker import CoreMessageWorker
from normalizer.twoway_contract import validate_delivery
from tests.support.core import wait_for_records

OUT_TOKEN = "test-outbound-token"
AUTH = {"Authorization": f"Bearer {OUT_TOKEN}"}


@contextlib.asynccontextmanager
async def core_worker(gw: Any, consumer: str = "test-core-sender", *, redis_url: str | None = None,
                      socket_timeout: float | None = None, strict: bool = False,
                      close_senders: bool = False, settings: Any = None,
                      **kw: Any) -> AsyncIterator[CoreMessageWorker]:
    """A ``CoreMessageWorker`` for ``gw`` (its senders, its Redis unless ``redis_url``) running in a
    task while the block runs; stopped and its Redis client closed after it. ``strict``: the
    worker's own failure fails the test (else it is ignored at teardown). ``close_senders``: also
    close the senders it made (their HTTP sessions). ``settings``: instead of the gateway's."""
    settings = settings or gw.settings
    r = aioredis.Redis.from_url(redis_url or settings.redis_url, socket_timeout=socket_timeout)
    cw = CoreMessageWorker(r, settings, registry.senders(settings), consumer, **kw)
    task = asyncio.create_task(cw.run())
    try:
        yield cw
    finally:
        cw.stop()
        try:
            with contextlib.suppress(*(() if strict else (Exception,))):
                await asyncio.wait_for(task, 5)
            if close_senders:
                for sender in {id(x): x for x in cw.senders.values()}.values():
                    with contextlib.suppress(Exception):
                        await sender.close()
        finally:
            await r.aclose()


def status_ids(r: redis.Redis, prefix: str) -> list[str]:
    """The job ids of the core's status jobs starting with ``prefix`` (one message's), in order."""
    return [j for j, _ in status_jobs(r) if j.startswith(prefix)]


def status_jobs(r: redis.Redis, queue: str = "lapor-core-status",
                func: str = "lapor_core.delivery_status", *, own: bool = False) -> list[tuple[str, dict[str, Any]]]:
    """(job id, delivery object) of every status job, in queue order; each checked against the
    contract and the job-id rule ``<outbound id>-<status>``. ``own``: also the statuses of the
    gateway's own messages (``ack-…``, ``question-…``), which the core's messages' tests leave out."""
    out = []
    raws: Any = r.lrange(f"rq:queue:{queue}", 0, -1)  # sync client: a list of bytes
    for raw in raws:
        jid = raw.decode()
        if not own and jid.startswith(("ack-", "question-")):
            continue
        job = Job.fetch(jid, connection=r, serializer=JSONSerializer)
        assert job.func_name == func
        assert len(job.args) == 1 and not job.kwargs
        doc = job.args[0]
        validate_delivery(doc)
        assert jid == f"{doc['outbound_id']}-{doc['status']}"
        out.append((jid, doc))
    return out


def outbound(oid: str, record_id: str, text: str = "Laporan Anda sudah diteruskan ke Dinas PU.",
             kind: str = "status", **extra: Any) -> dict[str, Any]:
    return {"schema": "lapor.outbound/1", "id": oid, "record_id": record_id, "kind": kind, "text": text, **extra}


async def sms_record(gw: Any, rsync: redis.Redis, kid: str = "0f8b7c2e-1111-4d6a-9c1e-0000000000a1") -> str:
    """A complaint by SMS through the Kannel endpoint, dispatched to the core; its record id."""
    status, _, _ = await gw.get(get_url(kid=kid, data=b"Jalan+rusak+di+depan+SDN+3+Kab+Bogor"))
    assert status in (200, 202)
    recs = await asyncio.to_thread(wait_for_records, rsync, 1)
    return str(recs[-1]["id"])


async def _async(value: Any) -> Any:
    return value


def dlr_parts(sent: list[dict[str, str]], oid: str) -> list[dict[str, str]]:
    """The provider calls (Kannel sendsms / Jasmin send queries) of outbound message ``oid``, in
    part order, recognised by the ``o`` of their ``dlr-url``."""
    from urllib.parse import parse_qs, urlsplit

    mine = []
    for q in sent:
        url = q.get("dlr-url")
        if url and parse_qs(urlsplit(url).query).get("o") == [oid]:
            mine.append(q)
    return sorted(mine, key=lambda q: int(parse_qs(urlsplit(q["dlr-url"]).query).get("p", ["1"])[0]))


def dlr_path(q: dict[str, str], dlr_type: int | None = None) -> str:
    """The ``dlr-url`` of a call as path + query, ``%d`` expanded as Kannel does."""
    from urllib.parse import urlsplit

    parts = urlsplit(q["dlr-url"])
    query = parts.query.replace("%d", str(dlr_type)) if dlr_type is not None else parts.query
    return f"{parts.path}?{query}"


async def seed_dead_outbound(app: Any, oid: str, record_id: str, channel: str = "sms") -> None:
    """A core message that failed for good, as the sender worker leaves it: stored through the API's
    path, ``failed`` through the delivery engine, and an entry in ``lapor:outbound:dead``."""
    import orjson

    from gateway.keys import OUTBOUND_DEAD
    from gateway.outbound_api import api_of

    api = api_of(app)
    doc = outbound(oid, record_id, text="Pesan yang gagal terkirim.")
    await api.store(doc, orjson.dumps(doc), channel)
    await api.engine.report(oid, "failed", error={"code": "rejected", "detail": "HTTP 400: Missing receiver"})
    await api.engine.redis.xadd(OUTBOUND_DEAD, {"o": oid, "error": "HTTP 400: Missing receiver", "at": "2026-01-01"})
