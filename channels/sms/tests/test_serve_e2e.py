"""The real deployment shape: ``lapor-gateway serve`` (embedded Redis, one worker process) bound to
the SMSC simulator; deliver_sm in, acknowledgement out as submit_sm, orderly unbind on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import gsm0338  # noqa: F401
import pytest

from channels.sms.tests.smsc import Smsc
from tests.support.redis_proc import free_port

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.slow
async def test_serve_with_embedded_redis_and_worker_process(smsc: Smsc, tmp_path: Path) -> None:
    env = dict(os.environ, LAPOR_DATA_DIR=str(tmp_path / "data"), LAPOR_HTTP_PORT=str(free_port()),
               LAPOR_SMS_TOKEN="t", LAPOR_SMPP_HOST="127.0.0.1", LAPOR_SMPP_PORT=str(smsc.port),
               LAPOR_SMPP_SYSTEM_ID="lapor", LAPOR_SMPP_PASSWORD="secret", LAPOR_WORKERS="1",
               LAPOR_LOG_FORMAT="json")
    env.pop("LAPOR_REDIS_URL", None)
    proc = subprocess.Popen([sys.executable, "-m", "gateway.cli", "serve"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        await smsc.wait_bound(30)
        assert await smsc.deliver(short_message=b"Jalan rusak di depan pasar Cicadas") == 0
        assert await smsc.deliver(esm_class=0x40, short_message=b"\x05\x00\x03\x01\x02\x02 kedua",
                                  source_addr="6285712345678") == 0
        assert await smsc.deliver(esm_class=0x40, short_message=b"\x05\x00\x03\x01\x02\x01bagian pertama,",
                                  source_addr="6285712345678") == 0
        acks = await smsc.wait_submits(2, timeout=60)
        assert {a.destination_addr for a in acks} == {b"6281234567890", b"6285712345678"}
        assert all("No. referensi LPR-" in a.short_message.decode("gsm03.38") for a in acks)
    finally:
        proc.terminate()
        await asyncio.to_thread(proc.wait, 60)
    assert smsc.unbinds == 1
