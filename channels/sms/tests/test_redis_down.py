"""Redis down: Kannel/Jasmin never get success for a message that is not stored somewhere durable."""

from __future__ import annotations

from typing import Any

from channels.sms.tests.conftest import eventually
from channels.sms.tests.test_jasmin import FORM, PATH, form
from channels.sms.tests.test_kannel import get_url
from tests.support.harness import stream_tail


async def _stream(r) -> list[Any]:
    try:
        return await stream_tail(r)
    except Exception:
        return []


async def test_jasmin_gets_ack_only_when_the_spool_holds_it(gateway, r, redis_proc):
    redis_proc.stop()
    try:
        status, body, _h = await gateway.post(PATH, data=form("rd-1", b"Saat Redis mati"), headers=FORM)
        assert (status, body) == (200, b"ACK/Jasmin")
        spool = gateway.settings.data_dir / "spool"
        assert any(b"rd-1" in p.read_bytes() for p in spool.glob("*.jsonl"))
    finally:
        redis_proc.start()
    stored = await eventually(lambda: _stream(r))
    assert [m.native_id for _e, m in stored] == ["jasmin:rd-1"]


async def test_no_redis_and_no_spool_means_no_ack_then_retry_is_stored_once(make_gateway, r, redis_proc, tmp_path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    gw = await make_gateway(data_dir=blocker / "data")  # the spool cannot be created
    redis_proc.stop()
    try:
        status, body, _h = await gw.post(PATH, data=form("rd-2", b"Tidak boleh hilang"), headers=FORM)
        assert status == 503 and body != b"ACK/Jasmin"
        status, _b, _h = await gw.get(get_url(kid="rd-k"))
        assert status == 503  # Kannel (http-request-retry) will try again
    finally:
        redis_proc.start()
    # Jasmin retries after retry_delay; Kannel after http-queue-delay
    async def retried() -> bool:
        s1, b1, _ = await gw.post(PATH, data=form("rd-2", b"Tidak boleh hilang"), headers=FORM)
        s2, _b, _ = await gw.get(get_url(kid="rd-k"))
        return (s1, b1, s2) == (200, b"ACK/Jasmin", 202)

    await eventually(retried, every=0.3)
    for _ in range(2):
        await gw.post(PATH, data=form("rd-2", b"Tidak boleh hilang"), headers=FORM)
    stored = await stream_tail(r)
    assert sorted(m.native_id for _e, m in stored) == ["jasmin:rd-2", "kannel:rd-k"]
