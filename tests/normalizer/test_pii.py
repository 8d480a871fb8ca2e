"""public_body masks personal data but keeps dates, money amounts and RT/RW readable."""

from __future__ import annotations

import pytest

from normalizer.normalize import normalize
from normalizer.pii import find_pii, mask
from tests.normalizer.helpers import msg

MASKED = [
    ("NIK saya 3273014101900001 tolong", "NIK saya [NIK] tolong"),
    ("nik: 3273 0141 0190 0001", "nik: [NIK]"),
    ("no kk 3273010101200005", "no kk [NO. KK]"),
    ("nomor 9999999999999999 di kartu", "nomor [NOMOR IDENTITAS] di kartu"),  # 16 digits, not a valid NIK
    ("hub 0812-3456-7890", "hub [NOMOR TELEPON]"),
    ("wa +62 812 3456 7890", "wa [NOMOR TELEPON]"),
    ("6281234567890 ini nomor saya", "[NOMOR TELEPON] ini nomor saya"),
    ("+62 (0)812-3456-7890", "[NOMOR TELEPON]"),
    ("0062 812 3456 7890", "[NOMOR TELEPON]"),
    ("telp (022) 2501234", "telp [NOMOR TELEPON]"),
    ("kantor 021-5551234", "kantor [NOMOR TELEPON]"),
    ("wa 81234567890", "wa [NOMOR TELEPON]"),
    ("email budi.s@gmail.com ya", "email [EMAIL] ya"),
    ("transfer ke rek BRI 0123-01-012345-50-1 a.n. Budi", "transfer ke rek BRI [NOMOR REKENING] a.n. Budi"),
    ("no rekening 1234567890", "no rekening [NOMOR REKENING]"),
    ("Mandiri 1370012345678", "Mandiri [NOMOR REKENING]"),
    ("motor plat B 1234 XYZ kabur", "motor plat [NOMOR POLISI] kabur"),
    ("mobil ad 1234 bc nabrak", "mobil [NOMOR POLISI] nabrak"),
    ("truk L 8123 UA parkir", "truk [NOMOR POLISI] parkir"),
    ("NPWP 09.254.294.3-407.000 terblokir", "NPWP [NPWP] terblokir"),
]

KEPT = [
    "biaya Rp 1.500.000 dan Rp 150.000.000.000",
    "diminta 2.500.000 rupiah",
    "dimintai 50rb",
    "tanggal 12-05-2024 jam 08.30",
    "tgl 08/12/2023",
    "RT 003/RW 005 no 12",
    "RT 03 RW 05",
    "tahun 2024 bulan 08",
    "jarak 1500 meter",
    "ID pelanggan PLN 532100123456",  # 12 digits: a customer number, not personal data by itself
    "SD 3 kelas 6",
    "KM 25 arah Bogor",
]


@pytest.mark.parametrize(("text", "expected"), MASKED)
def test_masked(text, expected):
    assert mask(text) == expected


@pytest.mark.parametrize("text", KEPT)
def test_not_masked(text):
    assert find_pii(text) == [] and mask(text) == text


def test_public_body_is_masked_body_is_not():
    rec = normalize([msg("NIK 3273014101900001, hp 081234567890, email a.b@c.id")])
    assert "3273014101900001" in rec.body
    assert rec.public_body == "NIK [NIK], hp [NOMOR TELEPON], email [EMAIL]"


def test_nik_embedded_in_longer_digit_run_is_masked():
    assert mask("x 93273014101900001 y") == "x [NIK] y"


def test_nik_next_to_letters_is_masked():
    assert "3273014101900001" not in mask("NIK3273014101900001")


@pytest.mark.parametrize(("text", "masked"), [
    ("transfer ke an Budi 1234567890 ya", "transfer ke an Budi [NOMOR REKENING] ya"),
    ("kirim ke a/n Siti 0987654321", "kirim ke a/n Siti [NOMOR REKENING]"),
    ("rek BRI a.n. Budi 123456789012", "rek BRI a.n. Budi [NOMOR REKENING]"),
    ("bayar di pelayanan. 1234567890 antrean", "bayar di pelayanan. 1234567890 antrean"),  # "-an." is no cue
])
def test_on_behalf_of_cues_an_account_however_it_is_written(text, masked):
    """"atas nama" is written an, a.n., a/n: each cues the number after the name as an account."""
    assert mask(text, []) == masked
