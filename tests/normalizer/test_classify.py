"""Pengaduan / Aspirasi / Permintaan Informasi from the way people write."""

from __future__ import annotations

import pytest

from normalizer.classify import classify

CASES = [
    ("jalan rusak parah udh 2 thn gk diperbaiki", "complaint"),
    ("min tlg bansos gk cair2 udh 3 bln", "complaint"),
    ("AIR PDAM MATI 4 HARI TDK ADA PEMBERITAHUAN", "complaint"),
    ("kapan jalan ini diperbaiki? sudah rusak parah bertahun tahun", "complaint"),
    ("ada pungli di kelurahan dimintai uang 50rb", "complaint"),
    ("min gmn cara bikin ktp baru syaratnya apa aja", "information_request"),
    ("mau tanya pendaftaran ppdb kapan dibuka", "information_request"),
    ("mhn info syarat pasang baru listrik", "information_request"),
    ("apakah bpjs bisa dipakai di klinik swasta?", "information_request"),
    ("izin tanya prosedur skck online", "information_request"),
    ("usul pak sebaiknya dibangun jembatan di desa kami", "aspiration"),
    ("saran sy data bansos diumumkan di balai desa", "aspiration"),
    ("mohon dibangun sd negeri baru krn sekolah jauh", "aspiration"),
    ("terima kasih, semoga pelayanan seperti ini dipertahankan", "aspiration"),
    ("halo", "complaint"),
    ("", "complaint"),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_classification(text, expected):
    assert classify(text) == expected
