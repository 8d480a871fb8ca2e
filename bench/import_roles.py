"""Memory and import cost of each process role, after its imports and set-up, before any traffic.

    .venv/bin/python -m bench.import_roles

Roles: ``http`` — what an HTTP process of ``serve`` builds (app, every channel's routes, admin);
``worker`` — what ``lapor-gateway worker`` builds (dispatcher, senders, preprocessors, topic rules,
one record normalized so lazily loaded data is in). For each role: RSS (VmRSS), the top-level
packages it imported, and per package its own RSS cost (imported alone in a fresh interpreter)
and its cumulative import time (``python -X importtime``). The peak under load is measured by
``bench.worker_memory`` (a real worker over 20,000 complaints).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

ROLE_CODE = {
    "bare": "pass",
    "http": """
from config.settings import load_settings
from gateway.app import build_app
build_app(load_settings(), "redis://127.0.0.1:1/0")
""",
    "worker": """
from config.settings import load_settings
from channels import registry
from dispatcher.outbound import OutboundWorker
from dispatcher.worker import DispatchWorker
from dispatcher.enrich import default_enrichers
from gateway import metrics, redis_clients
s = load_settings()
registry.senders(s); registry.preprocessors(s); default_enrichers(s)
from datetime import UTC, datetime
from normalizer.models import InboundMessage, Sender
from normalizer.normalize import normalize
from normalizer.contract import validate_record
from bench.complaints import complaint_text
m = InboundMessage(channel="api", provider="http-api", kind="submission", native_id="x",
                   sender=Sender(kind="msisdn", id="081234567890", phone="081234567890"), text=complaint_text(1))
m.stamp("01HZZZZZZZZZZZZZZZZZZZZZZZ", datetime.now(UTC))
validate_record(normalize([m]).to_json_dict())
""",
}

PROBE = """
import sys
{code}
rss = hwm = 0
for line in open("/proc/self/status"):
    if line.startswith("VmRSS:"):
        rss = int(line.split()[1]) // 1024
    if line.startswith("VmHWM:"):
        hwm = int(line.split()[1]) // 1024
roots = sorted({{n.split(".")[0] for n in sys.modules if not n.startswith("_")}} - set(sys.stdlib_module_names))
import json; print(json.dumps({{"rss_mb": rss, "hwm_mb": hwm, "roots": roots}}))
"""

ENV_TOKENS = {"LAPOR_HTTP_TOKEN": "x", "LAPOR_SMS_TOKEN": "x", "LAPOR_META_APP_SECRET": "x",
              "LAPOR_META_VERIFY_TOKEN": "x", "LAPOR_TWITTER_CONSUMER_SECRET": "x", "LAPOR_TELEGRAM_SECRET": "x",
              "LAPOR_EMAIL_TOKEN": "x", "LAPOR_TWITTER_POLL": "false"}


def _run(code: str, *flags: str) -> subprocess.CompletedProcess[str]:
    import os
    env = dict(os.environ, **ENV_TOKENS)
    return subprocess.run([sys.executable, *flags, "-c", PROBE.format(code=code)], capture_output=True, text=True,
                          env=env, cwd=Path(__file__).resolve().parents[1], check=True)


def import_times(code: str) -> dict[str, int]:
    """Import time (µs) per top-level package: the sum of its modules' own times (``-X importtime``)."""
    out: dict[str, int] = {}
    for line in _run(code, "-X", "importtime").stderr.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)", line)
        if m:
            root = m.group(4).split(".")[0]
            out[root] = out.get(root, 0) + int(m.group(1))
    return out


def main() -> None:
    bare = json.loads(_run(ROLE_CODE["bare"]).stdout)["rss_mb"]
    alone: dict[str, int] = {}
    for role in ("http", "worker"):
        doc = json.loads(_run(ROLE_CODE[role]).stdout)
        times = import_times(ROLE_CODE[role])
        print(f"\n### role `{role}`: VmRSS {doc['rss_mb']} MB after imports and set-up, peak (VmHWM) "
              f"{doc['hwm_mb']} MB (bare interpreter {bare} MB)\n")
        print("| package | RSS when imported alone (MB over bare) | import time in this role (ms, own modules) |")
        print("| --- | ---: | ---: |")
        rows = []
        for root in doc["roots"]:
            if root not in alone:
                try:
                    alone[root] = json.loads(_run(f"import {root}").stdout)["rss_mb"] - bare
                except subprocess.CalledProcessError:
                    alone[root] = -1
            rows.append((alone[root], times.get(root, 0) / 1000, root))
        for mb, ms, root in sorted(rows, reverse=True):
            if mb >= 1 or ms >= 20:
                print(f"| {root} | {mb} | {ms:.0f} |")


if __name__ == "__main__":
    main()
