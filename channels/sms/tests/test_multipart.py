"""Reassembly through the real dispatcher: parts in any order, duplicated, incomplete, on every input;
acknowledgements and help replies going back over the SMPP bind as submit_sm."""

from __future__ import annotations

import asyncio
import random

import gsm0338  # noqa: F401
import pytest

from channels.core.reference import reference
from channels.sms.keywords import HELP_TEXT
from channels.sms.tests.conftest import smpp_settings
from channels.sms.tests.test_kannel import get_url
from tests.support.core import core_job_ids, wait_for_records

TEXT = ("Jalan di Desa Sukamaju rusak parah sejak Januari, sudah ada dua pengendara motor jatuh minggu lalu. "
        "Mohon segera diperbaiki sebelum musim hujan 🙏 Terima kasih, warga RT 05/RW 02 Kec. Cibeunying")
UCS2 = TEXT.encode("utf-16-be")


def cut(data: bytes, n: int) -> list[bytes]:
    """n chunks, cut at odd offsets on purpose (a surrogate pair may straddle a cut)."""
    size = -(-len(data) // n)
    if size % 2 == 0:
        size += 1
    return [data[i:i + size] for i in range(0, len(data), size)]


async def records(rsync, n: int, timeout: float = 20.0):
    return await asyncio.to_thread(wait_for_records, rsync, n, timeout)


async def test_kannel_parts_shuffled_and_duplicated_give_one_record(gateway, rsync, r):
    await gateway.start_worker(senders={})
    chunks = cut(UCS2, 3)
    assert len(chunks) == 3
    reqs = [(i, get_url(kid=f"mp-{i}", coding="2", charset="UTF-16BE", udh=bytes([5, 0, 3, 0x2A, 3, i]),
                        data=c, raw_bin=False)) for i, c in enumerate(chunks, 1)]
    sends = [reqs[2], reqs[0], reqs[0], reqs[1]]  # shuffled, part 1 delivered twice by smsbox
    # and part 2 once more under a new %I (an SMSC-level redelivery)
    sends.append((2, get_url(kid="mp-2-again", coding="2", charset="UTF-16BE", udh=bytes([5, 0, 3, 0x2A, 3, 2]),
                             data=chunks[1], raw_bin=False)))
    for _i, url in sends:
        status, _b, _h = await gateway.get(url)
        assert status == 202
    (rec,) = await records(rsync, 1)
    await asyncio.sleep(1.0)  # nothing else shows up
    assert len(core_job_ids(rsync)) == 1
    assert rec["original_text"] == TEXT and rec["body"] == TEXT
    assert rec["source"]["message_ids"] == ["kannel:mp-1", "kannel:mp-2", "kannel:mp-3"]
    assert rec["idempotency_key"] == "sms:kannel:mp-1"
    assert "decode_error" not in rec["flags"] and "multipart_incomplete" not in rec["flags"]
    assert rec["reporter"]["msisdn"] == "+6281234567890" and rec["reporter"]["operator"] == "Telkomsel"
    assert rec["reporter"]["identity"] == "+6281234567890" and rec["source"]["recipient"] == "1708"
    assert not await r.keys("lapor:sms:mp:{*}") or all(k.endswith(b":done") for k in await r.keys("lapor:sms:mp:*"))


async def test_jasmin_sar_parts_give_one_record(gateway, rsync):
    import orjson

    from channels.sms.tests.test_jasmin import FORM, PATH, form

    await gateway.start_worker(senders={})
    chunks = [b"RAHASIA Kepala dinas ", b"meminta uang pelicin ", b"untuk izin usaha."]
    for seq in (2, 3, 1):
        tlv = orjson.dumps({"sar_msg_ref_num": 4242, "sar_total_segments": 3, "sar_segment_seqnum": seq}).decode()
        status, body, _h = await gateway.post(PATH, data=form(f"jz-{seq}", chunks[seq - 1], 0, tlv_params=tlv),
                                              headers=FORM)
        assert (status, body) == (200, b"ACK/Jasmin")
    (rec,) = await records(rsync, 1)
    assert rec["confidential"] is True
    assert rec["body"] == "Kepala dinas meminta uang pelicin untuk izin usaha."
    assert rec["source"]["message_ids"] == ["jasmin:jz-1", "jasmin:jz-2", "jasmin:jz-3"]


@pytest.mark.parametrize("how", ["udh8", "udh16", "sar"])
async def test_smpp_multipart_shuffled_duplicated_one_record_and_ack_by_submit_sm(make_gateway, smsc, rsync, how):
    gw = await make_gateway(**smpp_settings(smsc))
    await smsc.wait_bound()
    await gw.start_worker()
    chunks = cut(UCS2, 4)
    pdus = []
    for seq, c in enumerate(chunks, 1):
        if how == "udh8":
            pdus.append(dict(esm_class=0x40, data_coding=8, short_message=bytes([5, 0, 3, 0x99, 4, seq]) + c))
        elif how == "udh16":
            pdus.append(dict(esm_class=0x40, data_coding=8, short_message=bytes([6, 8, 4, 0xAB, 0xCD, 4, seq]) + c))
        else:
            pdus.append(dict(data_coding=8, short_message=c, sar_msg_ref_num=0xBEEF, sar_total_segments=4,
                             sar_segment_seqnum=seq))
    order = [3, 0, 2, 0, 1]  # part 1 twice
    random.Random(7).shuffle(order)
    for i in [*order, 3]:  # and the last part delivered again
        assert await smsc.deliver(**pdus[i]) == 0
    (rec,) = await records(rsync, 1)
    assert rec["original_text"] == TEXT
    assert len(rec["source"]["message_ids"]) == 4 and rec["source"]["provider"] == "smpp"
    assert "multipart_incomplete" not in rec["flags"]
    (ack,) = await smsc.wait_submits(1)
    text = ack.short_message.decode("gsm03.38")
    assert reference(rec["id"]) in text
    assert ack.data_coding == 0 and ack.destination_addr == b"6281234567890" and ack.source_addr == b"1708"
    await asyncio.sleep(0.5)
    assert len(core_job_ids(rsync)) == 1 and len(smsc.submits) == 1


async def test_incomplete_set_is_emitted_after_timeout_and_late_part_is_linked(make_gateway, rsync, r):
    gw = await make_gateway(multipart_timeout_s=1)
    await gw.start_worker(senders={})
    for seq in (1, 2):
        status, _b, _h = await gw.get(get_url(kid=f"to-{seq}", udh=bytes([5, 0, 3, 7, 3, seq]),
                                              data=f"bagian{seq}+".encode()))
        assert status == 202
    (rec,) = await records(rsync, 1, timeout=30)
    assert "multipart_incomplete" in rec["flags"]
    assert rec["original_text"] == "bagian1 bagian2 "
    assert rec["source"]["message_ids"] == ["kannel:to-1", "kannel:to-2"]
    # the missing part arrives late: its own record, linked to the first; a late copy of part 1 is dropped
    await gw.get(get_url(kid="to-3", udh=bytes([5, 0, 3, 7, 3, 3]), data=b"bagian3"))
    await gw.get(get_url(kid="to-1-again", udh=bytes([5, 0, 3, 7, 3, 1]), data=b"bagian1+"))
    recs = await records(rsync, 2, timeout=30)
    await asyncio.sleep(1.0)
    recs = await records(rsync, 2)
    assert len(recs) == 2
    late = recs[1]
    assert late["original_text"] == "bagian3" and "multipart_incomplete" in late["flags"]
    assert late["conversation"]["in_reply_to"] == rec["id"]


async def test_keyword_only_and_empty_sms_get_help_reply_and_no_record(make_gateway, smsc, rsync):
    gw = await make_gateway(**smpp_settings(smsc))
    await smsc.wait_bound()
    await gw.start_worker()
    assert await smsc.deliver(short_message=b"RAHASIA") == 0
    assert await smsc.deliver(short_message=b"  ", source_addr="6285712345678") == 0
    # a keyword-only multipart message as well
    assert await smsc.deliver(esm_class=0x40, short_message=b"\x05\x00\x03\x01\x02\x01#anonim ",
                              source_addr="6281311112222") == 0
    assert await smsc.deliver(esm_class=0x40, short_message=b"\x05\x00\x03\x01\x02\x02 RAHASIA",
                              source_addr="6281311112222") == 0
    replies = await smsc.wait_submits(3)
    assert {p.destination_addr for p in replies} == {b"6281234567890", b"6285712345678", b"6281311112222"}
    assert all(p.short_message.decode("gsm03.38") == HELP_TEXT for p in replies)
    await asyncio.sleep(1.0)
    assert core_job_ids(rsync) == []


async def test_submit_failure_is_retried_by_the_outbound_worker(make_gateway, smsc, rsync):
    gw = await make_gateway(**smpp_settings(smsc))
    await smsc.wait_bound()
    smsc.submit_status = [0x58]  # ESME_RTHROTTLED once
    await gw.start_worker()
    assert await smsc.deliver(short_message=b"Lampu jalan mati") == 0
    (rec,) = await records(rsync, 1)
    (ack,) = await smsc.wait_submits(1)
    assert reference(rec["id"]) in ack.short_message.decode("gsm03.38")
    assert smsc.submit_status == []  # the first submit_sm was refused (throttled), the retry went through
