"""Jasmin HTTP MO callback (deliverSmHttpThrower): form bodies → ``ACK/Jasmin`` and stored messages."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode

import orjson
import pytest

from tests.support.harness import Case, run_case

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
PATH = "/channels/sms/jasmin?token=test-sms-token"
FORM = {"Content-Type": "application/x-www-form-urlencoded", "User-Agent": "Jasmin gateway/1.0 deliverSmHttpThrower"}


def form(id: str, data: bytes, coding: int | None = 0, frm: str = "6281234567890", **extra: str) -> str:
    fields = {"id": id, "from": frm, "to": "1708", "origin-connector": "smppc_tsel", "priority": "0",
              "validity": "none", "content": data.decode("latin-1"), "binary": data.hex(), **extra}
    if coding is not None:
        fields["coding"] = str(coding)
    return urlencode(fields)


EMOJI = "Banjir lagi 😡 tolong".encode("utf-16-be")

CASES = [
    Case("GSM text with extension table (fixture)", PATH, headers=FORM, fixture="jasmin-mo-gsm.form",
         response_equals="ACK/Jasmin",
         messages=[{"channel": "sms", "provider": "jasmin", "native_id": "jasmin:3c9f2a61-5b1e-4f0a-9d57-1d2b7c0e8a11",
                    "text": "Lampu jalan mati sejak 3 hari {RT 05}, biaya 5€? Jl. Merdeka No. 12 Bandung",
                    "sender.phone": "+6281234567890", "recipient": "1708", "reply_to.thread": "smppc_tsel",
                    "flags": []}]),
    Case("UCS-2 with emoji", PATH, headers=FORM, body=form("j-ucs2", EMOJI, 8), response_equals="ACK/Jasmin",
         messages=[{"text": "Banjir lagi 😡 tolong", "flags": []}]),
    Case("UCS-2 odd length flagged decode_error", PATH, headers=FORM, body=form("j-odd", EMOJI[:-1], 8),
         response_equals="ACK/Jasmin", messages=[{"flags": ["decode_error"], "text": lambda t: t.endswith("\ufffd")}]),
    Case("UCS-2 lone surrogate flagged", PATH, headers=FORM, body=form("j-lone", b"\x00A\xd8\x3d\x00B", 8),
         response_equals="ACK/Jasmin", messages=[{"flags": ["decode_error"], "text": "A\ufffdB"}]),
    Case("Latin-1 (coding 3)", PATH, headers=FORM, body=form("j-l1", "Pelayanan buruk à".encode("latin-1"), 3),
         response_equals="ACK/Jasmin", messages=[{"text": "Pelayanan buruk à"}]),
    Case("8-bit binary (coding 4) that is UTF-8", PATH, headers=FORM, body=form("j-bin", "Tolong ✓".encode(), 4),
         response_equals="ACK/Jasmin", messages=[{"text": "Tolong ✓", "flags": []}]),
    Case("8-bit binary not text is flagged", PATH, headers=FORM, body=form("j-bin2", b"\x81\x00\xfe", 4),
         response_equals="ACK/Jasmin", messages=[{"flags": ["decode_error"]}]),
    Case("no coding field means default alphabet", PATH, headers=FORM, body=form("j-nc", b"Halo \x00", None),
         response_equals="ACK/Jasmin", messages=[{"text": "Halo @"}]),
    Case("GSM byte above 0x7F replaced and flagged", PATH, headers=FORM, body=form("j-gsmbad", b"Ok\x80", 0),
         response_equals="ACK/Jasmin", messages=[{"text": "Ok\ufffd", "flags": ["decode_error"]}]),
    Case("ANONIM keyword", PATH, headers=FORM, body=form("j-kw", b"ANONIM Kepala desa minta uang", 0),
         response_equals="ACK/Jasmin", messages=[{"anonymous": True, "body": "Kepala desa minta uang"}]),
    Case("part with SAR TLVs", PATH, headers=FORM, body=form("j-sar", b"bagian dua", 0, tlv_params=orjson.dumps(
         {"sar_msg_ref_num": 77, "sar_total_segments": 2, "sar_segment_seqnum": 2}).decode()),
         response_equals="ACK/Jasmin", messages=[{"part": {"ref": 77, "total": 2, "seq": 2}}]),
    Case("part with a concatenation UDH in binary", PATH, headers=FORM,
         body=form("j-udh", b"\x05\x00\x03\x09\x03\x01awal", 0), response_equals="ACK/Jasmin",
         messages=[{"part": {"ref": 9, "total": 3, "seq": 1}, "text": "awal"}]),
    Case("GET callback", PATH + "&" + form("j-get", b"lewat GET", 0), method="GET", response_equals="ACK/Jasmin",
         messages=[{"native_id": "jasmin:j-get", "text": "lewat GET"}]),
    Case("wrong token", "/channels/sms/jasmin?token=nope", headers=FORM, body=form("j-x", b"x"), status=403,
         stored=0),
    Case("missing id", PATH, headers=FORM, body="from=62812&to=1708&content=x&binary=78", status=400, stored=0),
    Case("binary not hex", PATH, headers=FORM, body=form("j-h", b"x").replace("binary=78", "binary=zz"),
         status=400, stored=0),
    Case("JSON body refused", PATH, headers={"Content-Type": "application/json"}, body='{"id": "1"}', status=400),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
async def test_cases(gateway, r, case):
    await run_case(gateway, r, case, FIXTURES)


async def test_duplicate_callback_still_acked(gateway, r):
    body = form("j-dup", b"sama")
    for _ in range(2):
        status, resp, _h = await gateway.post(PATH, data=body, headers=FORM)
        assert status == 200 and resp == b"ACK/Jasmin"
    assert await r.xlen("lapor:inbound") == 1
