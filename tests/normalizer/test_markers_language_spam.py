"""Anonim/Rahasia markers, language detection and spam cues."""

from __future__ import annotations

import pytest

from normalizer.language import detect
from normalizer.markers import extract
from normalizer.normalize import NormalizeContext, normalize
from normalizer.spam import fingerprint, is_spam
from tests.normalizer.helpers import msg

MARKERS = [
    ("#anonim jalan rusak", True, False, "jalan rusak"),
    ("jalan rusak #Anonim", True, False, "jalan rusak"),
    ("RAHASIA: ada pungli di kantor desa", False, True, "ada pungli di kantor desa"),
    ("Rahasia - pungli di desa", False, True, "pungli di desa"),
    ("ANONIM bansos gk cair", True, False, "bansos gk cair"),
    ("pungli di desa. ANONIM", True, False, "pungli di desa"),
    ("(rahasia) pungli", False, True, "pungli"),
    ("[ANONIM] [RAHASIA] pungli", True, True, "pungli"),
    ("#rahasia #anonim guru dipungut biaya", True, True, "guru dipungut biaya"),
    ("mohon identitas saya dirahasiakan. ada pungli", True, False, "mohon identitas saya dirahasiakan. ada pungli"),
    ("tolong laporan ini jangan dipublikasikan, ada pungli", False, True,
     "tolong laporan ini jangan dipublikasikan, ada pungli"),
    ("saya mau lapor secara anonim soal pungli", True, False, "saya mau lapor secara anonim soal pungli"),
    ("data ini bukan rahasia negara", False, False, "data ini bukan rahasia negara"),
    ("jalan rusak", False, False, "jalan rusak"),
]


@pytest.mark.parametrize(("text", "anon", "conf", "body"), MARKERS)
def test_markers(text, anon, conf, body):
    m = extract(text)
    assert (m.anonymous, m.confidential, m.body) == (anon, conf, body)


def test_record_markers_combine_with_adapter_flags():
    rec = normalize([msg("#rahasia ada pungli", confidential=False, anonymous=True)])
    assert rec.anonymous is True and rec.confidential is True
    assert rec.body == "ada pungli"
    assert rec.original_text == "#rahasia ada pungli"


LANGS = [
    ("jalan rusak parah di depan sekolah mohon segera diperbaiki", "id"),
    ("min tlg gmn ini bansos gk cair2 udh 3 bln", "id"),
    ("The street lights on my road have been off for two months, please fix them", "en"),
    ("dalane rusak parah ora didandani wis setahun, tulung pak", "jv"),
    ("punten abdi bade lapor, jalanna ruksak pisan teu acan dibenerkeun", "su"),
    ("ok", "und"),
    ("🙏🙏🙏", "und"),
    ("082112345678", "und"),
    ("", "und"),
]


@pytest.mark.parametrize(("text", "lang"), LANGS)
def test_language(text, lang):
    assert detect(text) == lang


SPAM = [
    ("SLOT GACOR hari ini! bonus new member 100% daftar sekarang di gacor88.vip", True),
    ("pinjaman dana tunai cepat cair tanpa jaminan hubungi wa admin", True),
    ("Selamat anda menang undian hadiah 50 juta, klik link bit.ly/xx", True),
    ("tolong berantas judi online slot di kampung kami, banyak pemuda kecanduan", False),
    ("saya korban pinjol diteror terus tolong ditindak", False),
    ("jalan rusak parah", False),
    ("info lengkap soal bansos di mana ya", False),
]


@pytest.mark.parametrize(("text", "spam"), SPAM)
def test_spam_cues(text, spam):
    assert is_spam(text) is spam


def test_spam_is_flagged_not_dropped():
    rec = normalize([msg("SLOT GACOR maxwin bonus new member daftar sekarang gacor88.vip")])
    assert "possible_spam" in rec.flags and rec.body


def test_repeats_from_context_flag_spam_at_threshold():
    m = msg("jalan rusak di depan rumah")
    assert "possible_spam" not in normalize([m], NormalizeContext(repeat_count=2)).flags
    assert "possible_spam" in normalize([m], NormalizeContext(repeat_count=3)).flags
    assert "possible_spam" not in normalize([m], NormalizeContext(repeat_count=3, repeat_threshold=5)).flags


def test_fingerprint_ignores_case_spacing_and_punctuation():
    assert fingerprint("Jalan RUSAK!!  di depan") == fingerprint("jalan rusak di depan")
    assert fingerprint("jalan rusak") != fingerprint("jalan rusak parah")


@pytest.mark.parametrize(("text", "anon", "conf", "body"), [
    ("/anonim jalan rusak", True, False, "jalan rusak"),  # Telegram command
    ("/rahasia@LaporBot ada pungli", False, True, "@LaporBot ada pungli"),
    ("RAHASIA#pungli di desa", False, True, "pungli di desa"),  # SMS keyword style
    ("anonim*bansos tdk cair", True, False, "bansos tdk cair"),
    ("dan/atau rahasia dagang", False, False, "dan/atau rahasia dagang"),
])
def test_markers_in_channel_forms(text, anon, conf, body):
    m = extract(text)
    assert (m.anonymous, m.confidential, m.body) == (anon, conf, body)
