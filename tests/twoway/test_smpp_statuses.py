"""SMPP delivery statuses end to end: the core's message is submitted over the transceiver bind
to the SMSC peer with ``registered_delivery=1``; each part's ``submit_sm_resp`` message id is
indexed; the SMSC's ``deliver_sm`` receipts (text ``id:… stat:…`` or the TLVs, the id in hex
or decimal) become statuses on the core's status queue, delivered only when every part is."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import redis
import redis.asyncio as aioredis

from channels import registry
from channels.core.reference import reference
from channels.sms.tests.conftest import eventually, smpp_settings
from channels.sms.tests.smsc import Smsc
from dispatcher.outbound_worker import CoreMessageWorker
from tests.support.core import wait_for_records
from tests.twoway.support import AUTH, OUT_TOKEN, _async, outbound, status_jobs

LONG = "Tindak lanjut laporan: " + "perbaikan jalan akan dilakukan bulan depan oleh dinas terkait. " * 24


def receipt(msg_id: str, stat: str) -> bytes:
    return (f"id:{msg_id} sub:001 dlvrd:001 submit date:2612061000 done date:2612061001 stat:{stat} "
            f"err:000 text:LAPOR").encode()


@pytest.fixture
async def smsc() -> AsyncIterator[Smsc]:
    sim = await Smsc().start()
    yield sim
    await sim.stop()


def ids(r: redis.Redis, prefix: str) -> list[str]:
    return [j for j, _ in status_jobs(r) if j.startswith(prefix)]


async def test_smpp_parts_receipts_and_statuses(make_gateway: Callable[..., Any], smsc: Smsc,
                                                rsync: redis.Redis) -> None:
    gw = await make_gateway(outbound_token=OUT_TOKEN, **smpp_settings(smsc))
    await smsc.wait_bound()
    await gw.start_worker()
    r = aioredis.Redis.from_url(gw.settings.redis_url)
    cw = CoreMessageWorker(r, gw.settings, registry.senders(gw.settings), "smpp-core")
    task = asyncio.create_task(cw.run())
    try:
        assert await smsc.deliver(short_message=b"Jalan rusak di depan SDN 3 Kab Bogor") == 0
        rid = str((await asyncio.to_thread(wait_for_records, rsync, 1))[-1]["id"])
        await smsc.wait_submits(1)  # the acknowledgement
        n_ack = len(smsc.submits)
        assert (await gw.post("/outbound/messages", json=outbound("s-long", rid, text=LONG), headers=AUTH))[0] == 202
        await eventually(lambda: _async(ids(rsync, "s-long-") == ["s-long-queued", "s-long-sent"]))
        parts = smsc.submits[n_ack:]
        assert 2 <= len(parts) <= 4
        assert all(p.registered_delivery == 1 and p.destination_addr == b"6281234567890" for p in parts)
        texts = b"".join(bytes(p.short_message)[6:] for p in parts).decode("gsm03.38")
        assert texts.endswith(reference(rid))
        sent = dict(status_jobs(rsync))["s-long-sent"]
        msg_ids = [f"sim-{n_ack + i}" for i in range(1, len(parts) + 1)]
        assert sent["provider_message_ids"] == msg_ids and sent["parts"] == len(parts)
        # interim receipt: nothing; then every part but the last delivered: still only sent
        assert await smsc.deliver(esm_class=0x04, short_message=receipt(msg_ids[0], "ENROUTE")) == 0
        for mid in msg_ids[:-1]:
            assert await smsc.deliver(esm_class=0x04, short_message=receipt(mid, "DELIVRD")) == 0
        await asyncio.sleep(0.5)
        assert ids(rsync, "s-long-") == ["s-long-queued", "s-long-sent"]
        # the last part by TLVs only (receipted_message_id + message_state 2)
        assert await smsc.deliver(esm_class=0x04, short_message=b"", receipted_message_id=msg_ids[-1],
                                  message_state=2) == 0
        await eventually(lambda: _async(ids(rsync, "s-long-") == ["s-long-queued", "s-long-sent",
                                                                   "s-long-delivered"]))
        # a receipt for a message that is not ours: answered 0, nothing recorded
        assert await smsc.deliver(esm_class=0x04, short_message=receipt("someone-else", "DELIVRD")) == 0
        # the acknowledgement: its id in hex in the receipt ("sim-1" is not numeric, so use UNDELIV text)
        assert await smsc.deliver(esm_class=0x04, short_message=receipt(f"sim-{n_ack}", "UNDELIV")) == 0
        await eventually(lambda: _async(any(j.endswith("-failed") for j, _ in status_jobs(rsync, own=True)
                                            if j.startswith("ack-"))))
    finally:
        cw.stop()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(task, 5)
        await r.aclose()


def test_receipt_id_forms() -> None:
    from channels.sms.receipts import id_forms

    assert id_forms("255") == ["255", "ff", "FF", "597"]
    assert id_forms("ff") == ["ff", "255"]
    assert id_forms("sim-1") == ["sim-1"]
