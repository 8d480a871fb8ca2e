"""What each process role imports: the HTTP process must not carry the normalizer's models
(the language model, the classifier, region tables) nor RQ; a default worker carries neither numpy
nor the SDKs of channels it does not send on."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

HTTP_ROLE = """
import json, sys
from config.settings import load_settings
from gateway.app import build_app
build_app(load_settings(), "redis://127.0.0.1:1/0")
print(json.dumps(sorted(sys.modules)))
"""

HEAVY_FOR_HTTP = ("numpy", "py3langid", "normalizer.normalize", "normalizer.language", "normalizer.linear",
                  "normalizer.region", "normalizer.classify", "dispatcher.worker", "rq", "phonenumbers.carrier")


def test_the_http_role_does_not_import_the_normalizer_models_nor_rq(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "LAPOR_HTTP_TOKEN": "x", "LAPOR_DATA_DIR": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", HTTP_ROLE], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=120, check=True)
    loaded = set(json.loads(out.stdout.strip().splitlines()[-1]))
    assert "gateway.intake" in loaded  # the probe really built the app
    assert [m for m in HEAVY_FOR_HTTP if m in loaded] == []


WORKER_ROLE = """
import json, sys
from config.settings import load_settings
from channels import registry
from dispatcher.worker import DispatchWorker
from dispatcher.enrich import default_enrichers
s = load_settings()
registry.senders(s); registry.preprocessors(s); default_enrichers(s)
print(json.dumps(sorted(sys.modules)))
"""


def test_a_worker_loads_the_telegram_sdk_only_for_a_configured_bot(tmp_path):
    base = {"PATH": "/usr/bin:/bin", "LAPOR_HTTP_TOKEN": "x", "LAPOR_DATA_DIR": str(tmp_path)}

    def loaded(**extra: str) -> set[str]:
        out = subprocess.run([sys.executable, "-c", WORKER_ROLE], cwd=ROOT, env={**base, **extra},
                             capture_output=True, text=True, timeout=120, check=True)
        return set(json.loads(out.stdout.strip().splitlines()[-1]))

    plain = loaded()
    assert "normalizer.normalize" in plain and "channels.telegram.hooks" in plain
    assert "telegram" not in plain
    assert "telegram" in loaded(LAPOR_TELEGRAM_BOT_TOKEN="123:abc")  # its sender needs the SDK


# what a worker with the defaults must not carry (each is megabytes): the language model is pure
# Python, and the SDKs of X, SMTP and SMPP are imported by their senders only once configured
NOT_IN_DEFAULT_WORKER = ("numpy", "py3langid", "tweepy", "requests", "requests_oauthlib", "oauthlib", "aiosmtplib",
                         "smpplib", "channels.sms.smpp", "telegram", "inscriptis", "lxml", "phonenumbers.carrier")


def test_a_default_worker_has_neither_numpy_nor_the_unconfigured_channels_sdks(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "LAPOR_HTTP_TOKEN": "x", "LAPOR_DATA_DIR": str(tmp_path)}
    code = WORKER_ROLE.replace("print(", "from normalizer import language; language.detect('the road is broken "
                                         "and nobody repairs it'); print(")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=120, check=True)
    loaded = set(json.loads(out.stdout.strip().splitlines()[-1]))
    assert {"normalizer.language", "channels.twitter.send", "channels.email.send", "channels.sms.send"} <= loaded
    assert [m for m in NOT_IN_DEFAULT_WORKER if m in loaded] == []


def test_an_unconfigured_x_sender_answers_not_configured_without_tweepy(tmp_path):
    code = """
import asyncio, json, sys
from channels.core.outbound import OutboundMessage, PermanentSendError
from channels.twitter.send import TwitterSender
from config.settings import load_settings
sender = TwitterSender(load_settings())
msg = OutboundMessage(channel="twitter", address="123", text="x", kind="ack", record_id="r", reference="LPR-1")
try:
    asyncio.run(sender(msg))
    code = "sent"
except PermanentSendError as exc:
    code = exc.code
print(json.dumps([code, "tweepy" in sys.modules, "requests" in sys.modules]))
"""
    env = {"PATH": "/usr/bin:/bin", "LAPOR_DATA_DIR": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=120, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == ["not_configured", False, False]


HTTP_WITH_SERVICES = """
import json, sys
from types import SimpleNamespace
from config.settings import load_settings
from channels import registry
from gateway.app import build_app
s = load_settings()
build_app(s, "redis://127.0.0.1:1/0")
import redis.asyncio as aioredis
r = aioredis.Redis.from_url("redis://127.0.0.1:1/0")
made = registry.services(SimpleNamespace(settings=s, redis=r, ingest=None))
print(json.dumps({"services": len(made), "modules": sorted(sys.modules)}))
"""
NOT_IN_DEFAULT_HTTP = ("telegram", "httpx", "imapclient", "tweepy", "smpplib", "aiosmtplib")


def test_the_http_role_loads_no_channel_sdk_until_the_channel_is_configured(tmp_path):
    base = {"PATH": "/usr/bin:/bin", "LAPOR_HTTP_TOKEN": "x", "LAPOR_DATA_DIR": str(tmp_path)}

    def probe(**extra: str) -> tuple[int, set[str]]:
        out = subprocess.run([sys.executable, "-c", HTTP_WITH_SERVICES], cwd=ROOT, env={**base, **extra},
                             capture_output=True, text=True, timeout=120, check=True)
        data = json.loads(out.stdout.strip().splitlines()[-1])
        return data["services"], set(data["modules"])

    made, loaded = probe()
    assert made == 0 and "channels.telegram.inbound" in loaded and "channels.email.service" in loaded
    assert [m for m in NOT_IN_DEFAULT_HTTP if m in loaded] == []
    # configured, the same probe does load them: the check above can fail
    made, loaded = probe(LAPOR_TELEGRAM_BOT_TOKEN="123:abc", LAPOR_TELEGRAM_POLLING="on", LAPOR_IMAP_HOST="127.0.0.1",
                         LAPOR_IMAP_USER="u", LAPOR_IMAP_PASSWORD="p")
    assert made == 2 and {"telegram", "imapclient"} <= loaded
