"""The reporter's own name and home address are masked in public_body; officials and places stay."""

from __future__ import annotations

import pytest

from normalizer import pii, reporter
from normalizer.models import Sender
from normalizer.normalize import normalize
from tests.normalizer.helpers import msg


@pytest.mark.parametrize(("text", "masked", "kept"), [
    ("Nama saya Siti Rahmawati, warga Cempaka Putih. Lurah kami Bapak Hendra minta uang.",
     ["Siti Rahmawati"], ["Bapak Hendra", "Cempaka Putih"]),
    ("Perkenalkan, saya Agus Salim dari Desa Tegalsari. Jalan desa rusak.", ["Agus Salim"], ["Tegalsari"]),
    ("saya Budi dari Kec. Coblong ingin melaporkan pungli oleh Pak Lurah Slamet.", ["Budi"], ["Slamet", "Coblong"]),
    ("sy joko dr desa sumberejo, kepsek pak Darmono minta uang seragam", ["joko"], ["Darmono", "sumberejo"]),
    ("Saya Ibu Marlina warga Kp. Cibeureum, anak saya ditolak PPDB.", ["Marlina"], ["Cibeureum"]),
    ("Jalan rusak parah. Terima kasih, Yulia", ["Yulia"], []),
    ("Mohon ditindak.\n\nTerima kasih atas perhatiannya.\nHormat saya,\nBudi Hartono", ["Budi Hartono"],
     ["perhatiannya"]),
    ("PDAM mati. makasih, yuli", ["yuli"], []),
    ("Nama: Fitri Handayani\nAlamat: Jl. Anggrek No. 5 RT 02/RW 01 Kota Malang\nIsi: lampu jalan mati",
     ["Fitri Handayani", "Jl. Anggrek No. 5 RT 02/RW 01"], ["Kota Malang"]),
    ("Alamat saya Jl. Melati No. 12 RT 03/RW 05, Kel. Sukajadi. Air PDAM mati.",
     ["Jl. Melati No. 12 RT 03/RW 05"], ["Sukajadi", "Air PDAM mati"]),
    ("saya tinggal di jalan mawar gg. 3 no 7 rt 2 rw 4 kec coblong, lampu jalan mati",
     ["jalan mawar gg. 3 no 7 rt 2 rw 4"], ["coblong", "lampu jalan mati"]),
    ("rumah saya di Perum Griya Asri Blok C2 No. 14, Kec. Cibinong. Sampah tidak diangkut.",
     ["Perum Griya Asri Blok C2 No. 14"], ["Cibinong"]),
])
def test_reporter_name_and_home_address_masked(text, masked, kept):
    out = pii.mask(text)
    for s in masked:
        assert s not in out, out
    for s in kept:
        assert s in out, out
    assert "[NAMA]" in out or "[ALAMAT]" in out


@pytest.mark.parametrize("text", [
    "Kepala Desa Suparman dan Sekdes Wahyudi memungut biaya PTSL 1 juta per bidang di Desa Sukasari.",
    "Jalan Diponegoro No. 45 di depan kantor bupati berlubang besar, RT 03/RW 05 sudah lapor ke kelurahan.",
    "Polisi atas nama Brigadir Santoso meminta uang damai 200 ribu di Jl. Sudirman.",
    "Terima kasih Pak Camat Yusuf yang sudah cepat menanggapi.",
    "Terima kasih atas perhatiannya",
    "Salam, Tim Pengelola",
    "e-ktp saya hilang, mau cetak ulang",
    "kenapa PBB tanah kosong saya lebih mahal dari rumah tetangga",
    "Saya warga Desa Mekarjaya mengusulkan posyandu.",
    "saya sendiri dari desa ini",
])
def test_officials_places_and_ordinary_words_stay(text):
    assert pii.mask(text) == text


def test_display_name_is_masked_wherever_it_occurs():
    out = pii.mask("halo min, dewi di sini, bansos belum cair. Dewi Lestari", ["Dewi Lestari"])
    assert "dewi" not in out.lower() and out.count("[NAMA]") == 2
    assert pii.mask("Lia di sini, air keruh", ["Lia Amalia"]) == "[NAMA] di sini, air keruh"
    assert pii.mask("Lurah sangat membantu", ["Admin"]) == "Lurah sangat membantu"


def test_public_body_and_title_hide_the_reporter_body_keeps_it():
    m = msg("Saya Rina Wati dari Bekasi ingin lapor sampah menumpuk di TPS", channel="telegram")
    m.sender = Sender(kind="telegram", id="555", display_name="Rina Wati")
    rec = normalize([m])
    assert "Rina" in rec.body and "Rina" not in rec.public_body and "Rina" not in rec.title


def test_patterns_are_linear_in_the_input():
    # counted work, not time: the address cue looks at a bounded window whatever follows it,
    # and a flood of cues costs a bounded amount per cue
    calls: list[int] = []
    real = reporter._STREET.finditer

    class Counting:
        def finditer(self, s: str):
            calls.append(len(s))
            return real(s)

    orig = reporter._STREET
    reporter._STREET = Counting()  # type: ignore[assignment]
    try:
        reporter.find_reporter("alamat saya " + "x" * 100_000)
        reporter.find_reporter("alamat saya jl " * 5_000)
    finally:
        reporter._STREET = orig
    assert calls and max(calls) <= reporter._WINDOW
    assert len(calls) <= 1 + 5_000
