"""SMPP bind against the loopback SMSC simulator: deliver_sm → stored messages, resp rules."""

from __future__ import annotations

import asyncio
from typing import Any

import gsm0338  # noqa: F401  (registers "gsm03.38" for building test PDUs)
import pytest

from channels.sms.tests.conftest import eventually, smpp_settings
from gateway.services import read_states
from tests.support.harness import stream_tail

UCS2 = "Air PDAM mati 3 hari 😭".encode("utf-16-be")
LONG = ("Laporan panjang tentang jalan rusak di Kecamatan Cibeunying yang sudah berbulan-bulan tidak "
        "diperbaiki padahal sudah dilaporkan ke kelurahan dan dinas terkait berkali-kali. ") * 3

# (name, deliver_sm fields, expected message fields or None when nothing is stored)
CASES: list[tuple[str, dict[str, Any], dict[str, Any] | None]] = [
    ("single GSM, international TON", dict(short_message="Jalan rusak {RT 05} 5€".encode("gsm03.38")),
     {"provider": "smpp", "text": "Jalan rusak {RT 05} 5€", "sender.phone": "+6281234567890", "recipient": "1708",
      "meta.source_addr_ton": 1, "reply_to.address": "+6281234567890", "part": None, "flags": []}),
    ("national TON without leading 0", dict(source_addr_ton=2, source_addr_npi=1, source_addr="81398765432",
                                            short_message=b"Halo"),
     {"sender.phone": "+6281398765432", "sender.id": "81398765432"}),
    ("UCS-2 with emoji", dict(data_coding=8, short_message=UCS2), {"text": "Air PDAM mati 3 hari 😭", "flags": []}),
    ("Latin-1", dict(data_coding=3, short_message="Layanan buruk à la carte".encode("latin-1")),
     {"text": "Layanan buruk à la carte"}),
    ("message_payload TLV", dict(message_payload=LONG.encode("gsm03.38")), {"text": LONG}),
    ("multipart part by UDH", dict(esm_class=0x40, short_message=b"\x05\x00\x03\x11\x03\x02tengah"),
     {"part": {"ref": 0x11, "total": 3, "seq": 2}, "text": "tengah", "meta.sms.data": b"tengah".hex()}),
    ("multipart part by 16-bit UDH", dict(esm_class=0x40, short_message=b"\x06\x08\x04\x01\x02\x02\x01awal"),
     {"part": {"ref": 0x0102, "total": 2, "seq": 1}}),
    ("multipart part by SAR", dict(short_message=b"sar satu", sar_msg_ref_num=513, sar_total_segments=2,
                                   sar_segment_seqnum=1),
     {"part": {"ref": 513, "total": 2, "seq": 1}, "text": "sar satu"}),
    ("invalid UCS-2 flagged", dict(data_coding=8, short_message=b"\x00A\xdc\x00"),
     {"flags": ["decode_error"], "text": "A\ufffd"}),
    ("alphanumeric sender", dict(source_addr_ton=5, source_addr_npi=0, source_addr="INFO", short_message=b"Promo"),
     {"sender.id": "INFO", "flags": ["sender_unparsable"], "reply_to": None}),
    ("MO as data_sm with message_payload", dict(command="data_sm", message_payload=b"lewat data sm"),
     {"text": "lewat data sm", "provider": "smpp"}),
    ("delivery receipt", dict(esm_class=0x04, short_message=b"id:abc sub:001 dlvrd:001 submit date:2611220800 "
                              b"done date:2611220801 stat:DELIVRD err:000 text:LAPOR!",
                              receipted_message_id="abc", message_state=2), None),
    ("SME delivery ack", dict(esm_class=0x08, short_message=b"ack"), None),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c[0])
async def test_deliver_sm_cases(smpp_gateway, smsc, r, case):
    _name, fields, expected = case
    status = await smsc.deliver(**fields)
    assert status == 0
    stored = await stream_tail(r)
    if expected is None:
        assert stored == []
        return
    assert len(stored) == 1
    from tests.support.harness import assert_partial

    msg = stored[0][1]
    assert msg.channel == "sms" and msg.native_id.startswith("smpp:")
    assert_partial(msg.model_dump(mode="json"), expected)


async def test_redelivery_within_window_is_stored_once(smpp_gateway, smsc, r):
    for _ in range(3):
        assert await smsc.deliver(short_message=b"SMS yang sama") == 0
    stored = await stream_tail(r)
    assert len(stored) == 1


async def test_bind_state_is_published(smpp_gateway, smsc, r):
    async def bound() -> Any:
        doc = (await read_states(r)).get("smpp")
        return doc if doc and doc["state"] == "bound" else None

    doc = await eventually(bound)
    assert doc["state"] == "bound" and doc["mode"] == "transceiver" and doc["channel"] == "sms"
    assert smsc.binds[-1]["command"] == "bind_transceiver"


async def test_wrong_password_is_an_auth_error_in_health(make_gateway, smsc, r):
    await make_gateway(**{**smpp_settings(smsc), "smpp_password": "wrong"})

    async def backoff() -> Any:
        doc = (await read_states(r)).get("smpp")
        return doc if doc and doc["state"] == "backoff" else None

    doc = await eventually(backoff)
    assert doc["error_kind"] == "auth" and not smsc.bound.is_set()


async def test_receiver_mode_binds_as_receiver(make_gateway, smsc, r):
    await make_gateway(**{**smpp_settings(smsc), "smpp_bind_mode": "receiver"})
    await smsc.wait_bound()
    assert smsc.binds[-1]["command"] == "bind_receiver"
    assert await smsc.deliver(short_message=b"lewat receiver") == 0


async def test_reconnects_after_connection_loss(smpp_gateway, smsc, r):
    await smsc.drop()
    await smsc.wait_bound(timeout=20)
    assert len([b for b in smsc.binds if b["ok"]]) == 2
    assert await smsc.deliver(short_message=b"setelah putus") == 0
    assert len(await stream_tail(r)) == 1


async def test_sends_enquire_link(make_gateway, smsc):
    await make_gateway(**smpp_settings(smsc, smpp_enquire_link_s=0.2))
    await smsc.wait_bound()

    async def two() -> bool:
        return smsc.enquire_links >= 2

    await eventually(two)


async def test_redis_down_spool_holds_then_flows(smpp_gateway, smsc, r, redis_proc):
    redis_proc.stop()
    try:
        assert await smsc.deliver(short_message=b"saat redis mati") == 0  # fsync'd spool has it
        spool = smpp_gateway.settings.data_dir / "spool"
        assert any(p.read_bytes() for p in spool.glob("*.jsonl"))
    finally:
        redis_proc.start()

    async def flowed() -> list[Any]:
        try:
            return await stream_tail(r)
        except Exception:
            return []

    stored = await eventually(flowed)
    assert [m.text for _e, m in stored] == ["saat redis mati"]


async def test_redis_down_without_spool_answers_rx_t_appn(make_gateway, smsc, r, redis_proc):
    await make_gateway(**smpp_settings(smsc, smpp_use_spool=False))
    await smsc.wait_bound()
    redis_proc.stop()
    try:
        assert await smsc.deliver(short_message=b"tolak sementara") == 0x64
    finally:
        redis_proc.start()
    # the SMSC redelivers later: now it is stored
    assert await eventually(lambda: _deliver_ok(smsc))
    assert [m.text for _e, m in await stream_tail(r)] == ["tolak sementara"]


async def _deliver_ok(smsc) -> bool:
    return await smsc.deliver(short_message=b"tolak sementara") == 0


async def test_unknown_command_gets_generic_nack_and_session_goes_on(smpp_gateway, smsc, r):
    import struct

    fut = asyncio.get_running_loop().create_future()
    smsc._resps[0x7777] = fut
    assert smsc.writer is not None
    smsc.writer.write(struct.pack(">LLLL", 16, 0x00000099, 0, 0x7777))  # a command id SMPP 3.4 lacks
    nack = await asyncio.wait_for(fut, 10)
    assert nack.command == "generic_nack" and nack.status == 0x03
    assert await smsc.deliver(short_message=b"masih jalan") == 0
    assert len(await stream_tail(r)) == 1


async def test_shutdown_unbinds(smpp_gateway, smsc):
    await smpp_gateway.stop()
    assert smsc.unbinds == 1


async def test_one_bind_per_deployment_and_the_standby_takes_over(make_gateway, smsc, r):
    """Two gateway processes with the same SMSC settings on one Redis: one binds (lease), the other
    stands by without overwriting the bind state, and binds once the first stops."""
    from channels.sms.smpp import BIND_LEASE_KEY, bind_is_up

    first = await make_gateway(**smpp_settings(smsc))
    await smsc.wait_bound()
    await make_gateway(**smpp_settings(smsc))
    await asyncio.sleep(1.0)  # the second's service has tried (and stood by) by now
    assert [b["ok"] for b in smsc.binds] == [True]
    assert len(smsc._tasks) == 1
    assert await r.get(BIND_LEASE_KEY) is not None
    assert await eventually(lambda: bind_is_up(r))  # the standby did not overwrite the state
    await first.stop()  # orderly stop: unbind and release the lease
    await eventually(lambda: _async_len(smsc.binds, 2))
    assert [b["ok"] for b in smsc.binds] == [True, True]
    assert await eventually(lambda: bind_is_up(r))


async def _async_len(items: list[Any], n: int) -> bool:
    return len(items) >= n
