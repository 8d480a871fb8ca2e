"""The core's side: a real RQ worker runs our jobs with the record as its only argument."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

from rq import Queue
from rq.serializers import JSONSerializer

from tests.support.core import assert_valid, wait_for_records

FAKE_CORE = Path(__file__).parent / "fake_core"


async def test_rq_worker_executes_the_enqueued_complaints(gateway, rsync, tmp_path):
    await gateway.start_worker()
    for i in range(3):
        status, _b, _h = await gateway.post(
            "/channels/http/complaints", headers={"Authorization": "Bearer test-http-token"},
            json={"id": f"core-{i}", "text": f"Pungli di kantor kelurahan {i}", "reporter": {"id": f"r{i}"}})
        assert status == 202
    records = await asyncio.to_thread(wait_for_records, rsync, 3, 15.0)
    out = tmp_path / "core.jsonl"
    env = dict(os.environ, LAPOR_FAKE_CORE_OUT=str(out), PYTHONPATH=str(FAKE_CORE))
    url = gateway.settings.redis_url
    proc = await asyncio.to_thread(
        subprocess.run, [sys.executable, "-m", "rq.cli", "worker", "--burst", "--url", url, "--serializer",
                         "rq.serializers.JSONSerializer", "--worker-class", "rq.worker.SimpleWorker", "lapor-core"],
        env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr[-2000:]
    queue = Queue("lapor-core", connection=rsync, serializer=JSONSerializer)
    received = [json.loads(line) for line in out.read_text().splitlines()]
    assert received == records
    for rec in received:
        assert_valid(rec)
    for rec in records:
        job = queue.fetch_job(rec["id"])
        assert job is not None and job.get_status() == "finished" and job.return_value() == rec["id"]
        assert job.description == f"complaint {rec['id']}", "no personal data in the job description"
