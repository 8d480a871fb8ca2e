"""Realistic ~280-character Indonesian complaints with a name and a phone number, for load and profiles.

Deterministic per index (no randomness between runs), varied enough that classification,
topics, regions and PII masking all do real work.
"""

from __future__ import annotations

import json

NAMES = ["Budi Santoso", "Siti Aminah", "Agus Prasetyo", "Dewi Lestari", "Rahmat Hidayat", "Nur Aini",
         "Made Wirawan", "Yohanes Manurung", "Fitri Handayani", "Andi Saputra"]
PLACES = ["Kecamatan Tebet, Jakarta Selatan", "Kabupaten Bogor", "Kota Medan", "Kecamatan Lowokwaru, Kota Malang",
          "Kabupaten Gowa, Sulawesi Selatan", "Kota Makassar", "Kabupaten Sleman, DI Yogyakarta",
          "Kota Pontianak", "Kabupaten Badung, Bali", "Kota Kupang"]
TEMPLATES = [
    "Selamat siang, saya {name} warga {place}. Jalan utama di depan SDN 3 rusak parah dan berlubang sejak "
    "tiga bulan lalu, sudah ada dua pengendara motor jatuh minggu ini. Mohon dinas PU segera memperbaiki. "
    "Bisa hubungi saya di {phone}. Terima kasih.",
    "Saya {name} dari {place} ingin melaporkan bantuan sosial PKH untuk ibu saya tidak cair sejak Juni "
    "padahal namanya terdaftar di DTKS. Petugas kelurahan tidak memberi penjelasan. Mohon ditindaklanjuti, "
    "nomor saya {phone}.",
    "Pelayanan di puskesmas {place} sangat lambat, antrean dari jam 7 pagi baru dilayani jam 1 siang dan "
    "obat sering kosong. Anak saya demam tinggi tidak segera ditangani. Nama saya {name}, WA {phone}. "
    "Mohon ada perbaikan pelayanan.",
    "Lampu penerangan jalan di {place} sudah mati lebih dari sebulan, kawasan jadi gelap dan rawan "
    "pencurian. Sudah lapor ke RT/RW tapi belum ada tindakan. Pelapor {name}, telepon {phone}. Mohon "
    "segera diperbaiki oleh dinas terkait.",
    "Saya {name}, orang tua murid di {place}. Sekolah negeri anak saya meminta pungutan Rp 1.500.000 untuk "
    "seragam dan buku, tanpa kwitansi resmi. Apakah ini diperbolehkan? Mohon informasinya. Hubungi "
    "{phone}.",
]


def phone(i: int) -> str:
    return f"08{12 + i % 8}{(i * 7919) % 10**8:08d}"


def complaint_text(i: int) -> str:
    t = TEMPLATES[i % len(TEMPLATES)]
    body = t.format(name=NAMES[i % len(NAMES)], place=PLACES[(i // 3) % len(PLACES)], phone=phone(i))
    return f"Kepada Yth. Admin LAPOR! {body}"


def api_body(prefix: str, i: int) -> bytes:
    """A generic JSON channel request body (``POST /channels/http/complaints``)."""
    return json.dumps({"id": f"{prefix}-{i}", "text": complaint_text(i),
                       "reporter": {"name": NAMES[i % len(NAMES)], "phone": phone(i)}}).encode()
