"""Logs never show message text, phone numbers, emails or secrets in the clear."""

from __future__ import annotations

import io
import json
import logging

import structlog

from gateway.logging import configure_logging, get_logger, scrub


def capture(fn) -> str:
    import sys

    buf = io.StringIO()
    old = sys.stderr
    sys.stderr = buf
    try:
        configure_logging("json", "info")
        fn()
    finally:
        sys.stderr = old
        structlog.reset_defaults()
    return buf.getvalue()


def test_sensitive_fields_and_free_text_are_redacted():
    def emit() -> None:
        log = get_logger("t")
        log.info("got sms from 081234567890", text="Jalan rusak, hubungi saya 0812-3456-7890",
                 sender="+6281234567890", email="budi@example.id", channel="sms",
                 note="forwarded by agency@pemda.go.id", url="/cb?token=abc123secret&kid=1")
        logging.getLogger("thirdparty").warning("connection to 6281234567890 failed for x@y.id")

    out = capture(emit)
    for secret in ("081234567890", "0812-3456-7890", "+6281234567890", "6281234567890", "budi@example.id",
                   "agency@pemda.go.id", "x@y.id", "Jalan rusak", "abc123secret"):
        assert secret not in out, f"{secret!r} leaked: {out}"
    first = json.loads(out.splitlines()[0])
    assert first["channel"] == "sms"
    assert first["text"].startswith("<redacted len=")
    assert "kid=1" in first["url"]


def test_scrub_keeps_dates_and_amounts():
    s = scrub("tanggal 2026-11-22 jam 08:00 bayar Rp 150.000 RT 05/RW 03 kode 1708")
    assert s == "tanggal 2026-11-22 jam 08:00 bayar Rp 150.000 RT 05/RW 03 kode 1708"


def test_scrub_masks_every_indonesian_phone_form():
    for form in ("0812-3456-7890", "081234567890", "+6281234567890", "6281234567890", "006281234567890",
                 "+62 (0)812 3456 7890", "+62 812 3456 7890"):
        assert scrub(f"call {form} now") == "call <phone> now", form
