"""Mail that is not a complaint, by header and (last resort) by subject."""

from __future__ import annotations

import pytest

from channels.email.classify import classify
from channels.email.mime import _header_fn, parse_bytes

OWN = {"noreply@lapor.go.id", "pengaduan@lapor.go.id"}


def mail(headers: str, ctype: str = "text/plain") -> bytes:
    return (f"From: Warga <warga@example.id>\nTo: pengaduan@lapor.go.id\nContent-Type: {ctype}\n{headers}\n"
            "\nIsi pesan.\n").encode()


@pytest.mark.parametrize(("headers", "want"), [
    ("Subject: Jalan rusak", None),
    ("Subject: Jalan rusak\nAuto-Submitted: no", None),
    ("Subject: x\nAuto-Submitted: auto-generated", "auto_reply"),
    ("Subject: x\nAuto-Submitted: auto-replied; owner-email=\"a@b.c\"", "auto_reply"),
    ("Subject: x\nX-Autoreply: yes", "auto_reply"),
    ("Subject: x\nX-Autorespond: yes", "auto_reply"),
    ("Subject: Out of Office: sampai 5 Des", "auto_reply"),
    ("Subject: Balasan otomatis: Re: laporan", "auto_reply"),
    ("Subject: Automatic reply: laporan", "auto_reply"),
    ("Subject: Undeliverable: laporan", "bounce"),
    ("Subject: Delivery Status Notification (Failure)", "bounce"),
    ("Subject: Mail delivery failed: returning message to sender", "bounce"),
    ("Subject: x\nReturn-Path: <>", "bounce"),
    ("Subject: x\nPrecedence: bulk", "list"),
    ("Subject: x\nPrecedence: junk", "list"),
    ("Subject: x\nList-Unsubscribe: <mailto:u@list.example>", "list"),
    ("Subject: x\nX-LAPOR-Reference: LPR-0ABCD-EFGHJ", "own"),
])
def test_headers_and_subjects(headers, want):
    msg = parse_bytes(mail(headers))
    assert classify(msg, _header_fn(msg), OWN) == want


def test_read_receipt_is_a_bounce():
    msg = parse_bytes(mail("Subject: Read: laporan",
                           'multipart/report; report-type=disposition-notification; boundary="b"'))
    assert classify(msg, _header_fn(msg), OWN) == "bounce"


def test_postmaster_and_our_mailbox():
    for sender, want in (("postmaster@mx.example.id", "bounce"), ("MAILER-DAEMON@mx.example.id", "bounce"),
                         ("noreply@lapor.go.id", "own")):
        msg = parse_bytes(f"From: {sender}\nSubject: x\n\nisi\n".encode())
        assert classify(msg, _header_fn(msg), OWN) == want
