"""What the bot says to citizens (Indonesian; plain text, no parse mode)."""

from __future__ import annotations

HELP = (
    "Selamat datang di LAPOR! (SP4N-LAPOR!), layanan pengaduan pelayanan publik nasional.\n\n"
    "Cara melapor: tulis laporan Anda langsung di sini — apa yang terjadi, di mana, dan kapan. "
    "Setelah itu Anda boleh mengirim foto, dokumen, atau lokasi dalam beberapa menit; semuanya "
    "digabungkan ke laporan yang sama.\n\n"
    "Perintah:\n"
    "/lapor — mulai laporan baru\n"
    "/kirim — selesai, tutup laporan\n"
    "/batal — batalkan laporan yang sedang dibuat\n"
    "/rahasia — isi laporan dirahasiakan dari publik\n"
    "/anonim — identitas Anda tidak ditampilkan kepada publik dan instansi terlapor\n"
    "/bantuan — tampilkan pesan ini"
)

REPORT_OPENED = (
    "Silakan tulis laporan Anda: apa yang terjadi, di mana, dan kapan. Anda juga dapat mengirim "
    "foto, dokumen, atau lokasi. Ketik /kirim bila sudah selesai, atau /batal untuk membatalkan."
)

CONFIDENTIAL_SET = (
    "Baik, laporan ini akan dirahasiakan: isinya tidak ditampilkan kepada publik. "
    "Silakan lanjutkan laporan Anda."
)
ANONYMOUS_SET = (
    "Baik, laporan ini bersifat anonim: identitas Anda tidak ditampilkan kepada publik maupun instansi terlapor. "
    "Silakan lanjutkan laporan Anda."
)
FLAG_LATE = (
    " Catatan: bagian laporan yang sudah terkirim sebelumnya tetap tercatat seperti semula; "
    "tanda ini berlaku untuk pesan berikutnya."
)


def submitted(ref: str) -> str:
    return (f"Laporan Anda sudah lengkap dan diteruskan. Nomor referensi: {ref}. "
            "Perkembangannya dapat Anda pantau di lapor.go.id.")


NOTHING_TO_SUBMIT = "Belum ada laporan yang ditulis. Ketik /lapor untuk memulai laporan baru."
CANCELLED = "Laporan dibatalkan. Ketik /lapor bila ingin membuat laporan baru."


def cancelled_after_send(ref: str) -> str:
    return (f"Laporan ditutup. Bagian yang sudah terkirim (nomor referensi {ref}) tetap tercatat; "
            "bila ingin menariknya, sampaikan melalui lapor.go.id dengan nomor referensi tersebut.")


CONTACT_SAVED = "Terima kasih, nomor telepon Anda kami catat untuk laporan Anda."


def follow_up_ack(ref: str, main_ref: str | None = None) -> str:
    """``main_ref``: the reference of the complaint this adds to (what the citizen tracks)."""
    if main_ref:
        return (f"Tambahan untuk laporan {main_ref} (foto, dokumen, lokasi, atau keterangan) sudah diterima "
                f"dan digabungkan ke laporan tersebut. Nomor catatan tambahan: {ref}.")
    return (f"Tambahan untuk laporan Anda (foto, dokumen, lokasi, atau keterangan) sudah diterima "
            f"dan digabungkan. Nomor referensi tambahan: {ref}.")


def edit_ack(ref: str, main_ref: str | None = None) -> str:
    if main_ref:
        return (f"Perubahan pesan Anda sudah dicatat sebagai pembaruan laporan {main_ref}. "
                f"Nomor catatan perubahan: {ref}.")
    return f"Perubahan pesan Anda sudah dicatat sebagai pembaruan laporan. Nomor referensi: {ref}."

SEND_LOCATION = "📍 Kirim lokasi"  # the button under the completeness question (request_location)
