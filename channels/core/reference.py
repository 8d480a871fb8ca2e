"""The citizen-facing reference of a record and the Indonesian acknowledgement texts."""

from __future__ import annotations


def reference(record_id: str) -> str:
    """Short, unambiguous reference derived from the ULID: ``LPR-XXXXX-XXXXX``.

    Characters 5-9 are the low bits of the millisecond timestamp and 21-25 the last random
    ones, so two records collide only if they share both (≈ 1 in 33 million per millisecond).
    The core receives the full id; ``matches`` maps a reference back to it.
    """
    rid = record_id.upper()
    return f"LPR-{rid[5:10]}-{rid[21:26]}"


def matches(ref: str, record_id: str) -> bool:
    return reference(record_id) == ref.strip().upper()


def ack_text(ref: str, *, short: bool = False) -> str:
    """Acknowledgement in Indonesian; ``short`` fits one GSM-7 SMS (≤ 160 characters)."""
    if short:
        return (f"LAPOR! Laporan Anda diterima. No. referensi {ref}. "
                "Laporan akan diverifikasi dan diteruskan ke instansi berwenang.")
    return (f"Terima kasih, laporan Anda sudah diterima oleh LAPOR!. Nomor referensi: {ref}. "
            "Laporan akan diverifikasi dan diteruskan ke instansi yang berwenang; perkembangannya "
            "dapat Anda pantau di lapor.go.id dengan nomor referensi tersebut.")


def question_text(ref: str, *, short: bool = False) -> str:
    """The completeness question (where did it happen?) carrying the reference; ``short`` fits one GSM-7 SMS."""
    if short:
        return f"LAPOR! Laporan {ref} diterima. Di mana lokasinya? Balas dgn nama jalan/desa, kecamatan, kab/kota."
    return (f"Terima kasih, laporan Anda sudah diterima oleh LAPOR! dengan nomor referensi {ref}. "
            "Di mana lokasi kejadiannya? Balas pesan ini dengan nama jalan/desa, kecamatan dan kabupaten/kota"
            " (atau kirim lokasi Anda), agar laporan dapat diteruskan ke instansi yang tepat.")
