"""Decoding tables, UDH parsing, keywords and Indonesian sender numbers (pure functions)."""

from __future__ import annotations

import pytest

from channels.sms import decoding
from channels.sms.keywords import strip_keywords
from channels.sms.message import sender_of


@pytest.mark.parametrize(("dcs", "codec"), [
    (0, "gsm"), (1, "ascii"), (2, "binary"), (3, "latin1"), (4, "binary"), (8, "ucs2"),
    (0xF0, "gsm"), (0xF4, "binary"), (0x08 | 0x10, "ucs2"), (0x04 | 0x10, "binary"), (None, "gsm"),
])
def test_data_coding_table(dcs, codec):
    assert decoding.codec_for_data_coding(dcs) == codec


def test_default_alphabet_is_configurable_per_smsc():
    assert decoding.codec_for_data_coding(0, "latin1") == "latin1"
    assert decoding.decode("Café".encode("latin-1"), decoding.codec_for_data_coding(0, "latin1")).text == "Café"


@pytest.mark.parametrize(("data", "codec", "text", "error"), [
    (b"\x00\x1b\x28x\x1b\x29\x1b\x65", "gsm", "@{x}€", False),
    (b"\x1b\x3c\x1b\x3e\x1b\x14\x1b\x2f", "gsm", "[]^\\", False),
    (b"ok\x9f", "gsm", "ok\ufffd", True),
    ("🙂".encode("utf-16-be"), "ucs2", "🙂", False),
    ("🙂".encode("utf-16-be")[:2] + b"\x00a", "ucs2", "\ufffda", True),
    (b"\xff\xfe", "binary", "ÿþ", True),
    ("ümlaut".encode(), "kannel-text", "ümlaut", False),
    ("Pungli 50€".encode("cp1252"), "kannel-text", "Pungli 50€", False),
])
def test_decode(data, codec, text, error):
    dec = decoding.decode(data, codec)
    assert (dec.text, dec.error) == (text, error)


def test_ucs2_surrogate_pair_cut_between_parts_decodes_after_joining():
    data = "ab🙂cd".encode("utf-16-be")
    first, second = data[:6], data[6:]  # the cut falls inside the surrogate pair
    assert decoding.decode(first, "ucs2").error
    assert decoding.decode(first + second, "ucs2") == decoding.Decoded("ab🙂cd", False)


def test_gsm_escape_cut_between_parts_decodes_after_joining():
    data = "harga 5€".encode("gsm03.38")
    assert decoding.decode(data[:-1] + data[-1:], "gsm").text == "harga 5€"


@pytest.mark.parametrize(("data", "concat", "rest", "ok"), [
    (b"\x05\x00\x03\x2a\x02\x01abc", decoding.Concat(42, 2, 1), b"abc", True),
    (b"\x06\x08\x04\x12\x34\x03\x03x", decoding.Concat(0x1234, 3, 3), b"x", True),
    # an application-port IE first, then the concatenation IE: unknown IEs are skipped by length
    (b"\x0b\x05\x04\x0b\x84\x23\xf0\x00\x03\x07\x02\x02hi", decoding.Concat(7, 2, 2), b"hi", True),
    (b"\x05\x00\x03\x2a\x02\x03abc", None, b"abc", True),  # seq > total: not a usable concatenation
    (b"\x09\x00\x03", None, b"\x09\x00\x03", False),
    (b"", None, b"", False),
])
def test_split_udh(data, concat, rest, ok):
    assert decoding.split_udh(data) == (concat, rest, ok)


@pytest.mark.parametrize(("raw", "ton", "phone"), [
    ("0812-3456-7890", None, "+6281234567890"),
    ("081234567890", None, "+6281234567890"),
    ("+6281234567890", None, "+6281234567890"),
    ("6281234567890", 1, "+6281234567890"),
    ("006281234567890", None, "+6281234567890"),
    ("+62 (0)812 3456 7890", None, "+6281234567890"),
    ("81234567890", 2, "+6281234567890"),
    ("1708", None, None),
    ("TELKOMSEL", 5, None),
])
def test_sender_numbers(raw, ton, phone):
    sender, reply, parsable = sender_of(raw, ton)
    assert sender.phone == phone and reply == phone and parsable == (phone is not None)
    assert sender.id == raw


@pytest.mark.parametrize(("text", "body", "conf", "anon"), [
    ("RAHASIA jalan rusak", "jalan rusak", True, False),
    ("rahasia: jalan rusak", "jalan rusak", True, False),
    ("#anonim #RAHASIA jalan", "jalan", True, True),
    ("Anonim, pungli", "pungli", False, True),
    ("rahasiakan ini", "rahasiakan ini", False, False),
    ("Jalan RAHASIA", "Jalan RAHASIA", False, False),
    ("ANONIM", "", False, True),
])
def test_keywords(text, body, conf, anon):
    kw = strip_keywords(text)
    assert (kw.body, kw.confidential, kw.anonymous) == (body, conf, anon)
