"""A worker loads its models before its first record (and before ``gc.freeze()``), writing nothing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PROBE = """
import json, sys
import redis
from config.settings import load_settings
from dispatcher.worker import DispatchWorker
import redis.asyncio as aioredis
from normalizer import linear
s = load_settings()
before = linear.joint.cache_info().currsize
w = DispatchWorker(aioredis.Redis.from_url(s.redis_url), s, core_redis=None)
w.warm_up()
print(json.dumps({"before": before, "after": linear.joint.cache_info().currsize}))
"""


def test_warm_up_loads_the_models_and_writes_nothing(redis_url, rsync, tmp_path):
    rsync.set("sentinel-key", "1")
    env = {"PATH": "/usr/bin:/bin", "LAPOR_HTTP_TOKEN": "x", "LAPOR_DATA_DIR": str(tmp_path),
           "LAPOR_REDIS_URL": redis_url}
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=120, check=True)
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got == {"before": 0, "after": 1}  # the linear models were loaded by the warm-up, not at import
    assert [k.decode() for k in rsync.keys("*")] == ["sentinel-key"]
