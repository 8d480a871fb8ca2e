"""Text tidying and the record title."""

from __future__ import annotations

import pytest

from normalizer.normalize import normalize
from normalizer.text import fold, tidy, words
from tests.normalizer.helpers import msg


def test_tidy_removes_invisibles_keeps_emoji_and_folds_spaces():
    raw = "Jalan\u200b  rusak\u00a0\u00a0parah\r\n\r\n\r\n\r\ntolong 🙏🏽 \u202e"
    assert tidy(raw) == "Jalan rusak parah\n\ntolong 🙏🏽"


def test_original_text_is_untouched_while_body_is_tidied():
    raw = "  Jalan\u200b rusak  "
    rec = normalize([msg(raw)])
    assert rec.original_text == raw
    assert rec.body == "Jalan rusak"


def test_adapter_body_is_used_instead_of_text():
    rec = normalize([msg("@LAPOR1708 sampah menumpuk di pasar", channel="twitter", body="sampah menumpuk di pasar")])
    assert rec.body == "sampah menumpuk di pasar"
    assert rec.original_text.startswith("@LAPOR1708")


def test_fold_and_words_expand_chat_spelling_and_floods():
    assert fold("PARAHHHH Bangettt") == "parahh bangett"
    assert words("tlg jln rusak gk diperbaiki2 udh lama") == [
        "tolong", "jalan", "rusak", "tidak", "diperbaiki", "diperbaiki", "sudah", "lama"]


def test_title_is_first_meaningful_sentence():
    rec = normalize([msg("... !!! Air PDAM mati sejak Senin. Mohon segera diperbaiki.")])
    assert rec.title == "Air PDAM mati sejak Senin."


def test_title_skips_a_too_short_first_piece():
    rec = normalize([msg("Pak!\nAir PDAM mati sejak Senin")])
    assert rec.title == "Air PDAM mati sejak Senin"


def test_long_title_cut_at_word_within_100():
    text = "jalan " * 60
    rec = normalize([msg(text.strip())])
    assert len(rec.title) <= 100
    assert rec.title.endswith("…") and not rec.title[:-1].endswith(" ")
    assert rec.title[:-1].split(" ")[-1] == "jalan"


@pytest.mark.parametrize(("text", "expected"), [
    ("", "Laporan via SMS 1708"),
    ("🙏🙏", "Laporan via SMS 1708"),
    ("!!", "Laporan via SMS 1708"),
])
def test_title_never_empty_falls_back_to_channel(text, expected):
    assert normalize([msg(text)]).title == expected


def test_title_fallback_uses_topic_label():
    # an email subject that is blank and a body with no sentence of 3 letters: topic label + channel
    rec = normalize([msg("PLN ⚡⚡", channel="telegram")])
    assert rec.topics[0] == "electricity"
    assert rec.title in ("PLN ⚡⚡", "Listrik PLN via Telegram")


def test_title_does_not_leak_personal_data():
    rec = normalize([msg("Saya 081234567890 lapor jalan rusak di depan rumah")])
    assert "081234567890" not in rec.title
    assert "[NOMOR TELEPON]" in rec.title


def test_subject_is_the_title_when_given():
    rec = normalize([msg("isi laporan panjang", channel="email", title="  Sampah   di TPS Cibodas ")])
    assert rec.title == "Sampah di TPS Cibodas"


@pytest.mark.parametrize("text", [
    "Yth. Admin LAPOR!\nSampah menumpuk di pasar",
    "Selamat pagi pak. Sampah menumpuk di pasar",
    "Assalamualaikum wr wb\n\nSampah menumpuk di pasar",
])
def test_title_skips_salutations(text):
    assert normalize([msg(text)]).title == "Sampah menumpuk di pasar"
