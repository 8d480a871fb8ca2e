"""Reading what reached the national core queue, the way the core (an RQ worker) would."""

from __future__ import annotations

import json
import time
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import redis
from rq.job import Job
from rq.serializers import JSONSerializer

from normalizer.contract import schema

SHARED_SCHEMA = Path(__file__).resolve().parents[3] / "shared" / "contract" / "complaint-record.v1.schema.json"


@cache
def validator() -> jsonschema.protocols.Validator:
    """jsonschema (independent of the gateway's fastjsonschema), on the shared contract when present."""
    doc = json.loads(SHARED_SCHEMA.read_text()) if SHARED_SCHEMA.exists() else schema()
    cls = jsonschema.validators.validator_for(doc)
    return cls(doc, format_checker=cls.FORMAT_CHECKER)


def assert_valid(record: dict[str, Any]) -> None:
    errors = sorted(validator().iter_errors(record), key=lambda e: list(e.absolute_path))
    assert not errors, "; ".join(f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors[:5])


def core_job_ids(r: redis.Redis, queue: str = "lapor-core") -> list[str]:
    ids: Any = r.lrange(f"rq:queue:{queue}", 0, -1)
    return [x.decode() for x in ids]


def core_records(r: redis.Redis, queue: str = "lapor-core", func: str = "lapor_core.receive_complaint",
                 validate: bool = True) -> list[dict[str, Any]]:
    """Every record in the core queue, loaded with RQ itself; checks job id = record id."""
    out = []
    for jid in core_job_ids(r, queue):
        job = Job.fetch(jid, connection=r, serializer=JSONSerializer)
        assert job.func_name == func, job.func_name
        assert len(job.args) == 1 and not job.kwargs
        rec = job.args[0]
        assert rec["id"] == jid
        if validate:
            assert_valid(rec)
        out.append(rec)
    return out


def wait_for_records(r: redis.Redis, n: int, timeout: float = 10.0, queue: str = "lapor-core",
                     validate: bool = True) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if r.llen(f"rq:queue:{queue}") >= n:
            break
        time.sleep(0.02)
    return core_records(r, queue, validate=validate)
