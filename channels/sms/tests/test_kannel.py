"""Kannel get-url / post-url MO callbacks: raw requests → answers and stored messages."""

from __future__ import annotations

import base64
from pathlib import Path
from urllib.parse import quote_from_bytes

import pytest

from tests.support.harness import Case, run_case

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
PATH = "/channels/sms/kannel"
TOKEN = "test-sms-token"


def q(b: bytes | str) -> str:
    return quote_from_bytes(b.encode() if isinstance(b, str) else b)


def get_url(kid: str = "0f8b7c2e-1111-4d6a-9c1e-0000000000a1", frm: str = "081234567890", to: str = "1708",
            smsc: str = "tsel", ts: str = "1795334400", coding: str = "0", charset: str = "UTF-8",
            udh: bytes = b"", data: bytes = b"Jalan+rusak", token: str | None = TOKEN, raw_bin: bool = True) -> str:
    """The URL exactly as Kannel expands the suggested get-url (bin/udh are URL-encoded bytes)."""
    parts = [] if token is None else [f"token={token}"]
    parts += [f"kid={kid}", f"from={q(frm)}", f"to={to}", f"smsc={smsc}", f"ts={ts}", f"coding={coding}",
              f"charset={charset}", f"udh={q(udh)}", f"bin={data.decode('latin-1') if raw_bin else q(data)}"]
    return PATH + "?" + "&".join(parts)


def basic(password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"kannel:{password}".encode()).decode()}


UCS2 = "Sampah menumpuk 🙂 di pasar".encode("utf-16-be")

CASES = [
    Case("get-url plain text", get_url(data=b"Jalan+rusak+di+depan+SDN+3"), method="GET", status=202,
         messages=[{"channel": "sms", "provider": "kannel", "kind": "sms",
                    "native_id": "kannel:0f8b7c2e-1111-4d6a-9c1e-0000000000a1", "sender.id": "081234567890",
                    "sender.phone": "+6281234567890", "recipient": "1708", "text": "Jalan rusak di depan SDN 3",
                    "sent_at": "2026-11-22T08:00:00Z", "reply_to.address": "+6281234567890",
                    "reply_to.thread": "tsel", "part": None, "flags": []}]),
    Case("get-url UCS-2 with emoji (surrogate pair)", get_url(kid="k-ucs2", coding="2", charset="UTF-16BE",
         data=UCS2, raw_bin=False), method="GET", status=202,
         messages=[{"text": "Sampah menumpuk 🙂 di pasar", "flags": [], "meta.sms.codec": "ucs2"}]),
    Case("get-url UCS-2 without charset", get_url(kid="k-ucs2b", coding="2", charset="", data=UCS2, raw_bin=False),
         method="GET", status=202, messages=[{"text": "Sampah menumpuk 🙂 di pasar"}]),
    Case("get-url Latin-1 charset", get_url(kid="k-latin", charset="ISO-8859-1", data="Café rusak".encode("latin-1"),
         raw_bin=False), method="GET", status=202, messages=[{"text": "Café rusak", "flags": []}]),
    Case("get-url WINDOWS-1252 euro", get_url(kid="k-1252", charset="WINDOWS-1252", data="Pungli 50€".encode("cp1252"),
         raw_bin=False), method="GET", status=202, messages=[{"text": "Pungli 50€"}]),
    Case("get-url invalid UTF-8 is flagged, not refused", get_url(kid="k-bad", data=b"Jalan \xff\xfe rusak",
         raw_bin=False), method="GET", status=202,
         messages=[{"text": "Jalan \ufffd\ufffd rusak", "flags": ["decode_error"]}]),
    Case("get-url multipart, 8-bit reference UDH", get_url(kid="k-p1", udh=b"\x05\x00\x03\x2a\x02\x01",
         data=b"Bagian+satu+"), method="GET", status=202,
         messages=[{"part": {"ref": 42, "total": 2, "seq": 1}, "meta.sms.data": b"Bagian satu ".hex()}]),
    Case("get-url multipart, 16-bit reference UDH", get_url(kid="k-p16", udh=b"\x06\x08\x04\x12\x34\x03\x02",
         data=b"dua"), method="GET", status=202, messages=[{"part": {"ref": 0x1234, "total": 3, "seq": 2}}]),
    Case("get-url UDH without concatenation (port IE)", get_url(kid="k-port", udh=b"\x06\x05\x04\x0b\x84\x23\xf0",
         data=b"halo+pak"), method="GET", status=202, messages=[{"part": None, "text": "halo pak"}]),
    Case("get-url RAHASIA keyword", get_url(kid="k-kw", data=b"RAHASIA+Pungli+di+kantor+kelurahan"), method="GET",
         status=202, messages=[{"confidential": True, "anonymous": False, "body": "Pungli di kantor kelurahan",
                                "text": "RAHASIA Pungli di kantor kelurahan"}]),
    Case("get-url #anonim #rahasia keywords", get_url(kid="k-kw2", data=b"%23anonim+%23Rahasia%3A+Jalan+rusak"),
         method="GET", status=202, messages=[{"confidential": True, "anonymous": True, "body": "Jalan rusak"}]),
    Case("get-url international sender forms", get_url(kid="k-intl", frm="+6285712345678"), method="GET",
         status=202, messages=[{"sender.phone": "+6285712345678"}]),
    Case("get-url 0062 sender", get_url(kid="k-0062", frm="006281311112222"), method="GET", status=202,
         messages=[{"sender.phone": "+6281311112222"}]),
    Case("get-url alphanumeric sender kept raw and flagged", get_url(kid="k-alpha", frm="TELKOMSEL"), method="GET",
         status=202, messages=[{"sender.id": "TELKOMSEL", "sender.phone": None, "reply_to": None,
                                "flags": ["sender_unparsable"], "meta": lambda m: "sender_unparsable" not in m}]),
    Case("get-url token as basic password", get_url(kid="k-basic", token=None), method="GET", headers=basic(TOKEN),
         status=202, messages=[{"native_id": "kannel:k-basic"}]),
    Case("post-url with X-Kannel headers", PATH + "?kid=k-post", method="POST", body=UCS2,
         headers={**basic(TOKEN), "Content-Type": "application/octet-stream", "X-Kannel-From": "6281298765432",
                  "X-Kannel-To": "1708", "X-Kannel-Time": "2026-11-22 03:04:05", "X-Kannel-SMSC": "isat",
                  "X-Kannel-Coding": "2", "X-Kannel-Charset": "UTF-16BE", "X-Kannel-UDH": ""},
         status=202, messages=[{"native_id": "kannel:k-post", "text": "Sampah menumpuk 🙂 di pasar",
                                "sender.phone": "+6281298765432", "reply_to.thread": "isat",
                                "sent_at": "2026-11-22T03:04:05Z"}]),
    Case("post-url multipart UDH header", f"{PATH}?kid=k-post3&token={TOKEN}", method="POST", body=b"akhir",
         headers={"Content-Type": "text/plain; charset=UTF-8", "X-Kannel-From": "6281298765432", "X-Kannel-To": "1708",
                  "X-Kannel-UDH": "050003070202", "X-Kannel-Coding": "0"},
         status=202, messages=[{"part": {"ref": 7, "total": 2, "seq": 2}, "text": "akhir"}]),
    Case("POST with the get-url fields form-encoded", f"{PATH}?token={TOKEN}", method="POST",
         headers={"Content-Type": "application/x-www-form-urlencoded"},
         body="kid=k-form&from=081234567890&to=1708&smsc=tsel&ts=1795334400&coding=0&charset=UTF-8&udh=&bin=Lewat+form",
         status=202, messages=[{"native_id": "kannel:k-form", "text": "Lewat form", "reply_to.thread": "tsel"}]),
    Case("get-url with %a-style text instead of bin", PATH + f"?token={TOKEN}&kid=k-text&from=081234567890&to=1708"
         "&text=Air+mati", method="GET", status=202, messages=[{"text": "Air mati", "sent_at": None}]),
    Case("wrong token", get_url(kid="k-x", token="nope"), method="GET", status=403, stored=0),
    Case("no token", get_url(kid="k-y", token=None), method="GET", status=401, stored=0),
    Case("wrong basic password", get_url(kid="k-z", token=None), method="GET", headers=basic("nope"), status=403),
    Case("missing sender", PATH + f"?token={TOKEN}&kid=k-nf&bin=halo", method="GET", status=400, stored=0),
    Case("malformed UDH", get_url(kid="k-udh", udh=b"\x09\x00\x03"), method="GET", status=400, stored=0),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
async def test_cases(gateway, r, case):
    await run_case(gateway, r, case, FIXTURES)


async def test_token_is_not_kept_in_raw(gateway, r):
    (msg,) = await run_case(gateway, r, Case("raw", get_url(kid="k-raw"), method="GET", status=202,
                                             messages=[{}]))
    assert msg.raw and TOKEN not in msg.raw and "kid=k-raw" in msg.raw


async def test_redelivery_by_smsbox_is_a_duplicate(gateway, r):
    url = get_url(kid="k-dup")
    for _ in range(3):
        status, body, _h = await gateway.get(url)
        assert status == 202
    assert b"duplicate" in body
    assert await r.xlen("lapor:inbound") == 1


async def test_disabled_without_token(make_gateway, r):
    gw = await make_gateway(sms_token=None)
    status, _b, _h = await gw.get(get_url(kid="k-off"))
    assert status == 403
    assert await r.xlen("lapor:inbound") == 0


async def test_charset_with_a_nul_byte_is_stored_not_a_500(gateway, r):
    url = get_url(kid="k-nul-charset", charset="UTF-8%00", data=b"Lampu+mati")
    status, body, _h = await gateway.get(url)
    assert status == 202, body
    (_eid, fields), = await r.xrange("lapor:inbound")
    assert b"Lampu mati" in fields[b"msg"]
