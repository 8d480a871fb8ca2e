"""Raw MIME endpoint: a table of real-looking .eml files → answers and stored messages, then the core."""

from __future__ import annotations

import asyncio
from pathlib import Path

import orjson
import pytest

from gateway.blobs import FileBlobStore
from tests.support.core import wait_for_records
from tests.support.harness import Case, run_case

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SMOKE = Path(__file__).resolve().parents[4] / "shared" / "contract" / "smoke" / "cases" / "smoke-09-email.eml"
PATH = "/channels/email/inbound"
AUTH = {"Authorization": "Bearer test-email-token", "Content-Type": "message/rfc822"}


def fwd(citizen: str, agency: str, org: str, title: str, body_start: str, cover: str) -> dict:
    return {"sender.kind": "email", "sender.id": citizen, "sender.email": citizen,
            "forwarded_by.identity": agency, "forwarded_by.organization": org,
            "flags": ["forwarded"], "title": title, "reply_to.address": citizen,
            "body": lambda b: b.startswith(body_start) and cover not in b,
            "meta.cover_note": lambda c: c is not None and c.startswith(cover)}


def fwd_case(name: str, fixture: str, expected: dict) -> Case:
    """A forwarded complaint accepted (202) as one message with the ``expected`` fields."""
    return Case(name, PATH, headers=AUTH, fixture=fixture, status=202, messages=[expected])


# forwards whose expected fields are exactly ``fwd``'s: name, fixture, then ``fwd``'s arguments
PLAIN_FORWARDS = [
    ("Outlook forward (Indonesian)", "outlook-forward-id.eml", "dewi.lestari@ymail.com",
     "layanan@disdukcapil.surabaya.go.id", "disdukcapil.surabaya.go.id",
     "KTP elektronik belum jadi setelah 6 bulan", "Saya sudah rekam KTP-el", "Mohon diproses"),
    ("Thunderbird forward (Indonesian)", "thunderbird-forward-id.eml", "nur.hasanah@gmail.com",
     "tu@disdik.semarangkota.go.id", "disdik.semarangkota.go.id",
     "Dana BOS tidak transparan", "Sekolah anak saya", "Mohon dicatat"),
]

CASES = [fwd_case(name, fixture, fwd(*args)) for name, fixture, *args in PLAIN_FORWARDS] + [
    Case("citizen plain, QP, RFC 2047 subject, signature", PATH, headers=AUTH, fixture="citizen-plain.eml",
         status=202, response_contains='"accepted"',
         messages=[{"channel": "email", "provider": "http-mime", "kind": "email",
                    "native_id": lambda n: n.startswith("CAF3xq7Yt9m2Lw@mail.gmail.com#"),
                    "sender.email": "budi.santoso@gmail.com", "sender.display_name": "Budi Santoso",
                    "title": "Jalan rusak di Jl. Merdeka – Bandung", "forwarded_by": None, "flags": [],
                    "body": lambda b: b.endswith("Terima kasih.") and "iPhone" not in b and "0812" not in b,
                    "text": lambda t: "Sent from my iPhone" in t,
                    "reply_to.address": "budi.santoso@gmail.com",
                    "reply_to.thread": "CAF3xq7Yt9m2Lw@mail.gmail.com",
                    "sent_at": "2025-11-22T09:12:30+07:00", "recipient": "pengaduan@lapor.go.id"}]),
    Case("Gmail forward (English UI)", PATH, headers=AUTH, fixture="gmail-forward-en.eml", status=202,
         messages=[fwd("siti.aminah88@yahoo.co.id", "humas@dishub.jakarta.go.id", "dishub.jakarta.go.id",
                       "Lampu lalu lintas mati di perempatan Cawang", "Lampu lalu lintas di perempatan Cawang",
                       "Mohon ditindaklanjuti") | {"sent_at": "2025-11-23T19:45:00+07:00"}]),
    Case("Gmail forward (Indonesian UI), quote inside removed", PATH, headers=AUTH, fixture="gmail-forward-id.eml",
         status=202,
         messages=[{**fwd("rahmat.hidayat@gmail.com", "sekretariat@dpmptsp.bogorkab.go.id",
                          "dpmptsp.bogorkab.go.id", "Pungutan liar pengurusan izin usaha", "Saya diminta membayar",
                          "Diteruskan untuk ditangani"),
                    "body": lambda b: b.endswith("tidak memberikan kuitansi.") and "Draf awal" not in b,
                    "sent_at": "2025-11-24T21:10:00+07:00"}]),
    Case("Outlook forward (English), iso-8859-1 label with cp1252 bytes", PATH, headers=AUTH,
         fixture="outlook-forward-en.eml", status=202,
         messages=[{**fwd("andi.wijaya@outlook.com", "umum@menteng.jakarta.go.id", "menteng.jakarta.go.id",
                          "Sampah menumpuk di Jl. Teuku Umar", "Sampah di Jl. Teuku Umar", "For your follow-up"),
                    "body": lambda b: "“tidak ada jadwal”" in b and "Café" in b and "Outlook" not in b,
                    "sent_at": "2025-11-26T13:15:00+07:00"}]),
    fwd_case("Apple Mail forward (quoted)", "apple-forward-en.eml",
             {**fwd("yusuf.maulana@icloud.com", "puskesmas.tebet@jakarta.go.id", "jakarta.go.id",
                    "Antrean BPJS di Puskesmas Tebet", "Pasien BPJS harus antre", "Untuk ditindaklanjuti"),
              "body": lambda b: b.endswith("tidak mendapat prioritas.") and ">" not in b,
              "sent_at": "2025-11-27T16:02:10+07:00"}),
    fwd_case("Thunderbird forward (English)", "thunderbird-forward-en.eml",
             {**fwd("eko.prasetyo@proton.me", "admin@diskominfo.jabarprov.go.id",
                    "diskominfo.jabarprov.go.id", "Sinyal internet desa terputus", "BTS di Desa Sukamaju",
                    "Forwarding as discussed"),
              "sent_at": "2025-11-28T18:40:02+07:00", "body": lambda b: "Eko" not in b}),
    fwd_case("forward attached as message/rfc822", "rfc822-attached.eml",
             {**fwd("hendra.gunawan@gmail.com", "inspektorat@malangkota.go.id", "malangkota.go.id",
                    "Dugaan pungli parkir di Pasar Besar", "Juru parkir di Pasar Besar", "Terlampir aduan"),
              "sent_at": "2025-12-03T17:45:00+07:00", "reply_to.thread": "CAcitizen-015@mail.gmail.com",
              "attachments.0.filename": "karcis.jpg", "attachments.0.kind": "image",
              "attachments.0.size": 40000, "attachments.0.inline": False}),
    Case("a citizen forwards an agency's answer: the citizen reports", PATH, headers=AUTH,
         fixture="citizen-forwards-agency-reply.eml", status=202,
         messages=[{"sender.email": "lina.marlina@gmail.com", "forwarded_by": None, "flags": [],
                    "body": lambda b: b.startswith("Dinas hanya menjawab") and "Gangguan sedang" in b,
                    "reply_to.address": "lina.marlina@gmail.com"}]),
    Case("HTML-only with inline logo", PATH, headers=AUTH, fixture="html-only.eml", status=202,
         messages=[{"meta.html_only": True, "title": "Pelayanan kelurahan lambat",
                    "body": lambda b: "memakan waktu 3 minggu & petugas" in b and "<" not in b and "color" not in b,
                    "attachments.0.inline": True, "attachments.0.mime": "image/png"}]),
    Case("windows-1252", PATH, headers=AUTH, fixture="windows-1252.eml", status=202,
         messages=[{"body": lambda b: "“keruh dan berbau”" in b and "Senin – warga" in b and "Café" in b,
                    "sender.display_name": "André Hutapea", "title": "Air PDAM keruh – Medan", "flags": []}]),
    Case("attachments to the blob store", PATH, headers=AUTH, fixture="attachments.eml", status=202,
         messages=[{"attachments.0.filename": "trotoar.jpg", "attachments.0.kind": "image",
                    "attachments.0.size": 48013, "attachments.0.inline": False,
                    "attachments.0.ref": lambda r: r.startswith("sha256:"),
                    "attachments.1.kind": "document", "attachments.1.mime": "application/pdf",
                    "body": "Trotoar di Jl. Diponegoro depan RSUD ambles. Foto dan surat RT terlampir."}]),
    Case("quoted reply: quote removed, thread kept", PATH, headers=AUTH, fixture="quoted-reply.eml", status=202,
         messages=[{"body": "Tambahan: lubangnya sekarang makin besar setelah hujan semalam, mohon\nsegera ditangani.",
                    "title": None, "conversation.in_reply_to": None,  # a record id only, set by the threads hook
                    "parent_message_id": "ack.01JDAAAAAAAAAAAAAAAAAAAAAA@lapor.go.id",
                    "conversation.thread_id": "CAF3xq7Yt9m2Lw@mail.gmail.com"}]),
    Case("no Message-ID: content hash", PATH, headers=AUTH, fixture="no-message-id.eml", status=202,
         messages=[{"native_id": lambda n: n.startswith("sha256:") and len(n) == 71,
                    "sender.email": "warga.rt05@example.id", "conversation": None}]),
    Case("malformed MIME: stored and flagged", PATH, headers=AUTH, fixture="malformed.eml", status=202,
         messages=[{"flags": ["decode_error"], "title": "Laporan banjir",
                    "meta.defects": lambda d: "StartBoundaryNotFoundDefect" in d}]),
    Case("raw 8-bit headers (no RFC 2047)", PATH, headers=AUTH,
         body=b"From: Andr\xe9 Siregar <andre@example.id>\r\nTo: pengaduan@lapor.go.id\r\n"
              b"Subject: Jalan \xab rusak \xbb\r\nMessage-ID: <raw8bit@example.id>\r\n\r\nJalan rusak.\r\n",
         status=202, messages=[{"sender.display_name": "André Siregar", "title": "Jalan « rusak »"}]),
    Case("auto-reply skipped", PATH, headers=AUTH, fixture="auto-reply.eml", status=200,
         response_contains='"auto_reply"', stored=0),
    Case("bounce skipped", PATH, headers=AUTH, fixture="bounce.eml", status=200, response_contains='"bounce"',
         stored=0),
    Case("mailing list skipped", PATH, headers=AUTH, fixture="list.eml", status=200, response_contains='"list"',
         stored=0),
    Case("our own acknowledgement skipped", PATH, headers=AUTH, fixture="own-ack.eml", status=200,
         response_contains='"own"', stored=0),
    Case("garbage bytes are stored and flagged", PATH, headers=AUTH, body=b"\xff\xfe\x00garbage\x80\x81 no headers",
         status=202, messages=[{"sender.id": "unknown", "reply_to": None}]),
    Case("wrong token", PATH, headers={**AUTH, "Authorization": "Bearer nope"}, fixture="citizen-plain.eml",
         status=403),
    Case("no token", PATH, headers={"Content-Type": "message/rfc822"}, fixture="citizen-plain.eml", status=401),
    Case("wrong content type", PATH, headers={**AUTH, "Content-Type": "application/json"}, body=b"{}", status=415),
    Case("empty body", PATH, headers=AUTH, body=b"  \r\n", status=400),
    Case("GET not allowed", PATH, method="GET", headers=AUTH, status=405),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
async def test_cases(gateway, r, case):
    await run_case(gateway, r, case, FIXTURES)


async def test_attachment_bytes_are_in_the_blob_store(gateway, r):
    case = next(c for c in CASES if c.fixture == "attachments.eml")
    msgs = await run_case(gateway, r, case, FIXTURES)
    store = FileBlobStore(gateway.settings.blobs_path, gateway.settings.blob_max_bytes)
    ref = msgs[0].attachments[0].ref
    assert ref is not None
    photo = await store.get(ref)
    assert photo.startswith(b"\xff\xd8\xff") and len(photo) == 48013
    assert msgs[0].raw is not None and msgs[0].meta["raw"] == {"size": len(msgs[0].raw.encode()), "ref": None}


async def test_big_raw_mail_is_kept_in_the_blob_store(make_gateway, r):
    gw = await make_gateway()
    raw = (FIXTURES / "citizen-plain.eml").read_bytes() + b"x" * (600 * 1024) + b"\n"
    status, _b, _h = await gw.post(PATH, data=raw, headers=AUTH)
    assert status == 202
    (_eid, f), = await r.xrange("lapor:inbound")
    msg = orjson.loads(f[b"msg"])
    assert "raw" not in msg  # not inline in the stream entry
    store = FileBlobStore(gw.settings.blobs_path, gw.settings.blob_max_bytes)
    assert await store.get(msg["meta"]["raw"]["ref"]) == raw


async def test_oversized_attachment_is_listed_without_bytes(make_gateway, r):
    gw = await make_gateway(blob_max_bytes=20_000)
    body = (FIXTURES / "attachments.eml").read_bytes()
    status, _b, _h = await gw.post(PATH, data=body, headers=AUTH)
    assert status == 202
    (_eid, f), = await r.xrange("lapor:inbound")
    msg = orjson.loads(f[b"msg"])
    photo = msg["attachments"][0]
    assert photo["size"] == 48013 and "ref" not in photo and "sha256" not in photo
    assert msg["meta"]["attachment_problems"][0]["error"] == "too_large"
    assert msg["attachments"][1]["ref"].startswith("sha256:")  # the small PDF is stored


async def test_same_mail_twice_is_one_record_with_crlf_or_lf(gateway, r):
    raw = (FIXTURES / "citizen-plain.eml").read_bytes()
    s1, b1, _ = await gateway.post(PATH, data=raw, headers=AUTH)
    # the same mail with CRLF line ends and an extra Received header (as a second MTA hop delivers it)
    again = b"Received: from relay.example (relay [10.0.0.1]) by mx2; Sat, 22 Nov 2025 09:13:00 +0700\r\n" + \
        raw.replace(b"\n", b"\r\n")
    s2, b2, _ = await gateway.post(PATH, data=again, headers=AUTH)
    assert (s1, s2) == (202, 200)
    assert orjson.loads(b1)["id"] == orjson.loads(b2)["id"]
    assert await r.xlen("lapor:inbound") == 1


async def test_oversized_mail_is_413(make_gateway, r):
    gw = await make_gateway(email_max_body_bytes=4096)
    raw = (FIXTURES / "attachments.eml").read_bytes()
    status, _b, _h = await gw.post(PATH, data=raw, headers=AUTH)
    assert status == 413
    assert await r.xlen("lapor:inbound") == 0


async def test_disabled_endpoint_refuses(make_gateway, r):
    gw = await make_gateway(email_token=None)
    status, body, _h = await gw.post(PATH, data=(FIXTURES / "citizen-plain.eml").read_bytes(), headers=AUTH)
    assert status == 403 and b"disabled" in body
    assert await r.xlen("lapor:inbound") == 0


async def test_skipped_mails_are_counted(gateway, r):
    for name in ("auto-reply.eml", "bounce.eml"):
        await gateway.post(PATH, data=(FIXTURES / name).read_bytes(), headers=AUTH)
    log = await gateway.get("/metrics")
    text = log[1].decode()
    assert 'channel="email",outcome="skipped_auto_reply"' in text
    assert 'channel="email",outcome="skipped_bounce"' in text


@pytest.mark.skipif(not SMOKE.exists(), reason="shared smoke case not present")
async def test_smoke_case_gives_one_record_with_reporter_email(gateway, rsync):
    await gateway.start_worker(senders={})
    raw = SMOKE.read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    status, _b, _h = await gateway.post(PATH, data=raw, headers=AUTH)
    assert status == 202
    (rec,) = await asyncio.to_thread(wait_for_records, rsync, 1, 5.0)
    assert rec["channel"] == "email" and rec["title"]
    assert rec["reporter"]["email"] == "warga.smoke@example.id"
    assert "smoke-email-1@example.id" in rec["source"]["message_ids"][0]


async def test_forward_reaches_core_with_forwarded_by(gateway, rsync):
    await gateway.start_worker(senders={})
    raw = (FIXTURES / "gmail-forward-id.eml").read_bytes()
    status, _b, _h = await gateway.post(PATH, data=raw, headers=AUTH)
    assert status == 202
    (rec,) = await asyncio.to_thread(wait_for_records, rsync, 1, 5.0)
    assert rec["reporter"]["email"] == "rahmat.hidayat@gmail.com"
    assert rec["forwarded_by"] == {"identity": "sekretariat@dpmptsp.bogorkab.go.id",
                                   "organization": "dpmptsp.bogorkab.go.id"}
    assert "forwarded" in rec["flags"]
    assert "Diteruskan" not in rec["body"] and rec["body"].startswith("Saya diminta membayar")
    assert rec["reply_to"]["address"] == "rahmat.hidayat@gmail.com"


async def test_blob_store_unwritable_is_503_and_nothing_stored(make_gateway, r, tmp_path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the blob directory should be")
    gw = await make_gateway(blob_dir=blocker)
    status, _b, headers = await gw.post(PATH, data=(FIXTURES / "attachments.eml").read_bytes(), headers=AUTH)
    assert status == 503 and headers.get("Retry-After")
    assert await r.xlen("lapor:inbound") == 0
    status, _b, _h = await gw.post(PATH, data=(FIXTURES / "citizen-plain.eml").read_bytes(), headers=AUTH)
    assert status == 202  # mail without attachments does not need the blob store
