"""The README's reference consumer (docs/examples/lapor_core.py) run by a real ``rq worker``
process: it receives the complaint, speaks back through the outbound API, and receives the
delivery statuses of what it sent, in order, each once."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import redis

from channels.sms.tests.conftest import eventually
from channels.sms.tests.test_outbound import FakeSmsApi
from tests.twoway.support import OUT_TOKEN, _async, sms_record

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "docs" / "examples"


async def rq_burst(gw: Any, folder: Path, *queues: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAPOR_")}
    env.update(LAPOR_GATEWAY_URL=gw.url, LAPOR_OUTBOUND_TOKEN=OUT_TOKEN, LAPOR_CORE_DIR=str(folder))
    rq = str(Path(sys.executable).with_name("rq"))
    return await asyncio.to_thread(
        subprocess.run, [rq, "worker", "--burst", "-u", str(gw.settings.redis_url), "-S", "json",
                         "--path", str(EXAMPLES), *queues],
        env=env, cwd=folder, capture_output=True, text=True, timeout=120)


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []


async def test_reference_consumer_in_a_real_rq_worker(twoway: Any, api: FakeSmsApi, rsync: redis.Redis,
                                                      tmp_path: Path) -> None:
    rid = await sms_record(twoway, rsync)
    res = await rq_burst(twoway, tmp_path, "lapor-core")
    assert res.returncode == 0, res.stderr[-2000:]
    assert [r["id"] for r in lines(tmp_path / "records.jsonl")] == [rid]
    # receive_complaint spoke back: the citizen gets the core's text by SMS
    sent = await eventually(lambda: _async([q for q in api.kannel if "sedang diverifikasi" in q["text"]]))
    assert len(sent) == 1
    oid = f"verif-{rid}"
    await eventually(lambda: _async(rsync.hget(f"lapor:out:{oid}", "status") == b"sent"))
    res = await rq_burst(twoway, tmp_path, "lapor-core-status")
    assert res.returncode == 0, res.stderr[-2000:]
    statuses = [s for s in lines(tmp_path / "statuses.jsonl") if s["outbound_id"] == oid]
    assert [s["status"] for s in statuses] == ["queued", "sent"]
    assert all(s["record_id"] == rid and s["schema"] == "lapor.delivery/1" for s in statuses)
    assert rsync.llen("rq:queue:lapor-core-status") == 0  # all executed
    finished = rsync.zrange("rq:finished:lapor-core-status", 0, -1)
    assert {f"{oid}-queued".encode(), f"{oid}-sent".encode()} <= set(finished)
    # the complaint job run again (an RQ retry) posts the same id: nothing is sent twice
    (record,) = lines(tmp_path / "records.jsonl")
    code = ("import json,sys,lapor_core; print(lapor_core.post_outbound(sys.argv[1], 'x', "
            "message_id=sys.argv[2])['http_status'])")
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAPOR_")}
    env.update(LAPOR_GATEWAY_URL=twoway.url, LAPOR_OUTBOUND_TOKEN=OUT_TOKEN, PYTHONPATH=str(EXAMPLES))
    again = await asyncio.to_thread(subprocess.run, [sys.executable, "-c", code, record["id"], oid], env=env,
                                    capture_output=True, text=True, timeout=30)
    assert again.stdout.strip() == "200", again.stderr
    await asyncio.sleep(0.5)
    assert len([q for q in api.kannel if "sedang diverifikasi" in q["text"]]) == 1
