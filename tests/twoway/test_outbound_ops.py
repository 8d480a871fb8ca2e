"""Admins see and act on the core's messages to citizens: counts per channel and queue depth in
``/metrics``, the dashboard's JSON and ``lapor-gateway status``; dead letters replayed as new
attempts (from the admin API and the CLI); ``lapor-gateway send`` through the API's path."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest
import redis
from prometheus_client.parser import text_string_to_metric_families

from channels.sms.tests.conftest import eventually
from channels.sms.tests.test_outbound import FakeSmsApi, routes
from dispatcher.delivery import StatusEngine, status_queue
from tests.support.fixtures import TOKENS
from tests.twoway.support import AUTH, OUT_TOKEN, _async, outbound, sms_record, status_jobs

ROOT = Path(__file__).resolve().parents[2]
ADMIN = {"Authorization": f"Bearer {TOKENS['admin_token']}"}


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def value(metrics: dict[Any, float], name: str, **labels: str) -> float:
    return metrics.get((name, tuple(sorted(labels.items()))), 0.0)


async def fail_one(twoway: Any, api: FakeSmsApi, rsync: redis.Redis, rid: str, oid: str) -> None:
    """A message the SMS gateway refuses for good: failed, and a dead letter."""
    api.kannel_answers = [(400, "Missing receiver")]
    status, _, _ = await twoway.post("/outbound/messages", json=outbound(oid, rid, text="Ditolak gateway."),
                                     headers=AUTH)
    assert status == 202
    await eventually(lambda: _async(rsync.hget(f"lapor:out:{oid}", "status") == b"failed"))


async def test_counts_queue_and_dead_letters_reach_metrics_and_dashboard(twoway: Any, api: FakeSmsApi,
                                                                        rsync: redis.Redis) -> None:
    rid = await sms_record(twoway, rsync)
    await eventually(lambda: _async(len(api.kannel) >= 1))  # the acknowledgement went out first
    assert (await twoway.post("/outbound/messages", json=outbound("ops-ok", rid, text="Sudah diteruskan."),
                              headers=AUTH))[0] == 202
    await eventually(lambda: _async(rsync.hget("lapor:out:ops-ok", "status") == b"sent"))
    await fail_one(twoway, api, rsync, rid, "ops-bad")
    # a Messenger message outside its window (what the worker reports then), through the same engine
    engine = StatusEngine(twoway.ctx.redis, status_queue(twoway.settings), 3600)
    assert await engine.report("ops-win", "failed", error={"code": "window_closed", "detail": None},
                               channel="facebook", record_id=rid, kind="status") == "ok"
    assert await engine.report("ops-win", "failed", error={"code": "window_closed", "detail": None}) == "stale"

    status, body, _ = await twoway.get("/metrics")
    m = samples(body.decode())
    assert status == 200
    sent_before = value(m, "lapor_outbound_total", channel="sms", status="sent")
    assert sent_before >= 1  # ops-ok (and the acknowledgement once its statuses are reported)
    assert value(m, "lapor_outbound_total", channel="sms", status="failed") == 1
    assert value(m, "lapor_outbound_failed_total", channel="sms", code="rejected") == 1
    assert value(m, "lapor_outbound_failed_total", channel="facebook", code="window_closed") == 1  # once, not twice
    assert ("lapor_outbound_backlog", ()) in m and ("lapor_outbound_waiting", ()) in m
    assert value(m, "lapor_outbound_dead") >= 1

    status, body, _ = await twoway.get("/admin/api/outbound", headers=ADMIN)
    doc = orjson.loads(body)
    assert status == 200
    assert doc["channels"]["sms"]["failed"] == 1 and doc["channels"]["sms"]["sent"] == sent_before
    assert doc["channels"]["facebook"]["window_closed"] == 1
    assert set(doc["queue"]) >= {"outbound_backlog", "outbound_in_flight", "outbound_later", "dead_letters"}
    assert doc["queue"]["dead_letters"] == 1
    (dead,) = doc["dead_letters"]
    assert dead["id"] == "ops-bad" and dead["record_id"] == rid and dead["channel"] == "sms"
    assert "Ditolak" not in body.decode()  # ids and errors only, never the text
    status, body, _ = await twoway.get("/admin/api/health", headers=ADMIN)
    assert orjson.loads(body)["outbound"]["dead_letters"][0]["id"] == "ops-bad"
    status, _, _ = await twoway.get("/admin/api/outbound")
    assert status == 401


async def test_replay_is_a_new_attempt_and_the_failed_one_stays_failed(twoway: Any, api: FakeSmsApi,
                                                                      rsync: redis.Redis) -> None:
    rid = await sms_record(twoway, rsync)
    await eventually(lambda: _async(len(api.kannel) >= 1))
    await fail_one(twoway, api, rsync, rid, "ops-r")
    ((dead_id, _f),) = [(e, f) for e, f in rsync.xrange("lapor:outbound:dead") if f.get(b"o") == b"ops-r"]
    status, body, _ = await twoway.post("/admin/api/outbound/replay", json={"ids": [dead_id.decode()]},
                                        headers=ADMIN)
    assert status == 200 and orjson.loads(body) == {"replayed": 1, "ids": ["ops-r-replay1"]}
    await eventually(lambda: _async(rsync.hget("lapor:out:ops-r-replay1", "status") == b"sent"))
    assert len([q for q in api.kannel if "Ditolak gateway" in q["text"]]) == 1
    jobs = [j for j, _ in status_jobs(rsync) if j.startswith("ops-r")]
    assert jobs == ["ops-r-queued", "ops-r-failed", "ops-r-replay1-queued", "ops-r-replay1-sent"]
    assert rsync.hget("lapor:out:ops-r", "status") == b"failed"  # terminal, as the core was told
    assert rsync.hget("lapor:out:ops-r", "replayed_as") == b"ops-r-replay1"
    assert rsync.hget("lapor:out:ops-r-replay1", "replay_of") == b"ops-r"
    status, body, _ = await twoway.get("/outbound/messages/ops-r-replay1", headers=AUTH)
    assert status == 200 and orjson.loads(body)["record_id"] == rid
    assert not [f for _e, f in rsync.xrange("lapor:outbound:dead") if f.get(b"o")]
    status, body, _ = await twoway.post("/admin/api/outbound/replay", json={"ids": [dead_id.decode()]},
                                        headers=ADMIN)
    assert orjson.loads(body)["replayed"] == 0  # gone from the dead letters: no second attempt
    status, _, _ = await twoway.post("/admin/api/outbound/replay", json={}, headers=ADMIN)
    assert status == 400


# ------------------------------------------------------------------------------------------- CLI
def cli_env(gw: Any, api: FakeSmsApi) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAPOR_")}
    env.update({f"LAPOR_{k.upper()}": v for k, v in TOKENS.items()})
    env.update({f"LAPOR_{k.upper()}": str(v) for k, v in routes(api).items()})
    env.update(LAPOR_REDIS_URL=str(gw.settings.redis_url), LAPOR_OUTBOUND_TOKEN=OUT_TOKEN,
               LAPOR_DATA_DIR=str(gw.settings.data_dir), LAPOR_LOG_LEVEL="warning")
    return env


async def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return await asyncio.to_thread(subprocess.run, [sys.executable, "-m", "gateway.cli", *args], env=env,
                                   capture_output=True, text=True, timeout=60, cwd=ROOT)


async def test_cli_send_status_and_replay(twoway: Any, api: FakeSmsApi, rsync: redis.Redis) -> None:
    rid = await sms_record(twoway, rsync)
    await eventually(lambda: _async(len(api.kannel) >= 1))
    env = cli_env(twoway, api)
    res = await cli(env, "send", "--record", rid, "--text", "Mohon kirim foto lokasi.", "--kind", "question",
                    "--expects-reply", "--id", "admin-q1", "--follow", "15")
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "admin-q1"
    assert "queued" in res.stderr and "sent" in res.stderr  # it followed the status
    assert len([q for q in api.kannel if "Mohon kirim foto" in q["text"]]) == 1
    doc = orjson.loads(rsync.hget("lapor:out:admin-q1", "doc"))
    assert doc["expects_reply"] is True and doc["kind"] == "question"
    assert [j for j, _ in status_jobs(rsync) if j.startswith("admin-q1")] == ["admin-q1-queued", "admin-q1-sent"]
    again = await cli(env, "send", "--record", rid, "--text", "Mohon kirim foto lokasi.", "--id", "admin-q1",
                      "--follow", "0")
    assert again.returncode == 0
    await asyncio.sleep(0.5)
    assert len([q for q in api.kannel if "Mohon kirim foto" in q["text"]]) == 1  # the same id never twice
    unknown = await cli(env, "send", "--record", "01JUNKNOWNRECORD0000000000", "--text", "x", "--follow", "0")
    assert unknown.returncode == 1 and "unknown_record" in unknown.stderr
    invalid = await cli(env, "send", "--record", rid, "--text", "", "--follow", "0")
    assert invalid.returncode == 2 and "invalid" in invalid.stderr

    await fail_one(twoway, api, rsync, rid, "ops-cli")
    listed = await cli(env, "replay", "--outbound", "--list")
    assert listed.returncode == 0 and json.loads(listed.stdout.splitlines()[0])["id"] == "ops-cli"
    st = await cli(env, "status", "--json")
    out = json.loads(st.stdout)["outbound"]
    assert out["channels"]["sms"]["failed"] == 1 and out["queue"]["dead_letters"] == 1
    text = await cli(env, "status")
    assert "outbound  backlog=" in text.stdout and "WINDOW_CLOSED" in text.stdout
    replayed = await cli(env, "replay", "--outbound", "--message", "ops-cli")
    assert replayed.returncode == 0 and replayed.stdout.split() == ["ops-cli-replay1"]
    await eventually(lambda: _async(rsync.hget("lapor:out:ops-cli-replay1", "status") == b"sent"))


async def test_a_replay_cut_short_finishes_the_same_attempt(twoway: Any, api: FakeSmsApi, rsync: redis.Redis) -> None:
    from dispatcher import outbound_ops
    from gateway.outbound_api import api_of

    rid = await sms_record(twoway, rsync)
    await eventually(lambda: _async(len(api.kannel) >= 1))
    await fail_one(twoway, api, rsync, rid, "ops-cut")
    out_api = api_of(twoway.runner.app)

    async def crash(*_a: Any) -> None:
        raise ConnectionError("the process died here")

    with pytest.raises(ConnectionError):
        await outbound_ops.replay_dead(out_api.engine.redis, crash, outbound_ids=["ops-cut"])
    assert [f for _e, f in rsync.xrange("lapor:outbound:dead") if f.get(b"o") == b"ops-cut"]  # still there
    assert await outbound_ops.replay_dead(out_api.engine.redis, out_api.store, outbound_ids=["ops-cut"]) == \
        ["ops-cut-replay1"]
    await eventually(lambda: _async(rsync.hget("lapor:out:ops-cut-replay1", "status") == b"sent"))
    await asyncio.sleep(0.5)
    assert len([q for q in api.kannel if "Ditolak gateway" in q["text"]]) == 1
    assert not rsync.exists("lapor:out:ops-cut-replay2")
