"""The reporter's own name and home address in the text, to be masked in ``public_body``.

Only what the reporter says about *themselves* is found: a self-introduction ("nama saya …",
"saya Budi dari …", "perkenalkan, saya …"), a closing or signature ("Terima kasih, Yulia",
"Hormat saya,\\nBudi"), the channel's display name wherever it occurs, and a home address
introduced as their own ("alamat saya …", "saya tinggal di …", "rumah saya di …": street,
house number, RT/RW). Officials and places the complaint is about are the subject and stay.
Every pattern has bounded repetition and looks at a bounded window, so the cost is linear.
"""

from __future__ import annotations

import re

Span = tuple[int, int, str]  # start, end, "name" | "address"

# words that follow a cue but are not a name ("saya Warga …", "terima kasih atas perhatiannya")
_NOT_NAME = frozenset("""
adalah atas admin bapak ibu pak bu bpk kak kakak mas mbak min mimin lapor tim semua sebelumnya banyak
perhatian perhatiannya perhatiaannya warga ingin mau sebagai selaku orang pelapor sangat sudah tidak juga
hanya dari yang di ke dan untuk atas nya ini itu kami kita mereka sekali sekalian mohon tolong sedang
seorang salah satu masyarakat rakyat pengguna pelanggan penumpang pasien orang tua wali murid siswa
mahasiswa guru petani nelayan pedagang karyawan buruh pegawai honorer ojol sopir driver kepala camat lurah
bupati walikota gubernur menteri presiden polisi petugas dinas kantor bank pt jalan jl desa kelurahan
kecamatan kabupaten kota provinsi rt rw no sekarang tadi kemarin telah akan bisa sudah belum harap berharap
merasa mengalami melaporkan laporkan ingin mengadukan menyampaikan sampaikan bertanya tanya minta atas
hormat salam wassalam wr wb warahmatullahi wabarakatuh assalamualaikum pagi siang sore malam selamat
regards thanks best dear yth lagi ya yah dong deh kok sih nih tuh aja saja sekali banget please tolong
respon responnya bantuannya kerjasamanya kerja sama tindak lanjut lanjutnya sebesar besarnya
""".split())
_NAME_WORD = r"[A-Za-z][A-Za-z'\-]{1,20}\.?"
_NAME = rf"(?P<name>{_NAME_WORD}(?:[ \t]+{_NAME_WORD}){{0,3}})"
# "nama saya Budi Santoso", "perkenalkan, saya Budi", "saya bernama budi"
_INTRO = re.compile(
    r"\b(?:nama\s+(?:saya|sy|aku|ku)|namaku|nama\s+lengkap\s+saya|(?:saya|sy|aku)\s+bernama|"
    r"perkenalkan[\s,]{0,3}(?:nama\s+)?(?:saya|sy|aku)?|dengan\s+saya)\b[\s:,]{0,3}(?:adalah\s+)?" + _NAME, re.I)
# "saya Budi dari Cibinong", "Saya Budi Santoso, warga …" (the name must be capitalized here)
_SAYA_NAME = re.compile(r"\b(?:[Ss]aya|[Ss]y|[Aa]ku)[ \t]+(?P<name>[A-Z][a-z'\-]{1,20}(?:[ \t]+[A-Z][a-z'\-]{1,20}){0,2})"
                        r"[ \t]*,?[ \t]*(?=(?:dari|warga|asal|tinggal|selaku|sebagai|yang\s+tinggal|yang\s+beralamat|"
                        r"beralamat|ingin|mau|hendak)\b)")
# "Terima kasih, Yulia" / "Hormat saya,\nBudi" / "Salam, Rina" — the name ends its line
_CLOSING = re.compile(
    r"\b(?:terima\s*kasih|terimakasih|makasih|trims|thanks|thx|tks|hormat\s+(?:saya|kami)|salam(?:\s+hormat)?|"
    r"wassalam\w{0,20}|regards|ttd)\b(?P<sep>[ \t]*[,.!:\-]{0,3}[ \t]*(?:\n[ \t]*){0,2})" + _NAME +
    r"[ \t]*[.!]?[ \t]*(?=\n|$)", re.I)
# home address cues; the window after them is searched for street, number and RT/RW
_ADDRESS_CUE = re.compile(r"\b(?:alamat\s+(?:saya|sy|rumah\s+saya|kami|rumah)|alamat\s*:|(?:saya|sy|kami|aku)\s+"
                          r"(?:tinggal|berdomisili|beralamat)(?:\s+di)?|yang\s+(?:tinggal|beralamat)(?:\s+di)?|"
                          r"rumah\s+(?:saya|sy|kami)\s+(?:berada\s+)?di|domisili\s+(?:saya\s+)?(?:di)?)\b", re.I)
_WINDOW = 140
_SENTENCE_END = re.compile(r"\n|[!?]|(?<![A-Za-z]{2}\.)(?<!\b[A-Za-z]\.)(?<!\b(?:jl|no|gg|rt|rw))"
                           r"(?<!\bjln)(?<!\bkec|\bkel|\bkab|\bkom)(?<!\bkomp)\.(?=\s|$)", re.I)
_STREET = re.compile(r"\b(?:jl|jln|jalan|gg|gang|komp|komplek|kompleks|perum|perumahan|blok|dusun|dsn|kp|kampung)"
                     r"\b\.?[ \t]*[A-Za-z0-9][^,\n()]{0,40}?(?=[ \t]*(?:,|\(|\bno\b|\bnomor\b|\brt\b|\brw\b|\bkel|"
                     r"\bkec|\bdesa\b|\bds\b|\bkab|\bkota\b|\bdekat\b|\bdan\b|\bsejak\b|\bdi\b|\n|$))", re.I)
_NUMBER = re.compile(r"\b(?:no|nomor|nmr)\b\.?[ \t]*[0-9]{1,4}[A-Za-z]?(?:[/\-][0-9A-Za-z]{1,4})?", re.I)
_RTRW = re.compile(r"\brt\b\.?[ \t]*[0-9]{1,3}(?:[ \t]*(?:/|,)?[ \t]*(?:rw\b\.?)?[ \t]*[0-9]{1,3})?"
                   r"|\brw\b\.?[ \t]*[0-9]{1,3}|(?<![0-9/])[0-9]{3}/[0-9]{3}(?![0-9/])", re.I)
_WORD = re.compile(r"[^\W\d_][\w'\-]*")
# after a comma the address goes on only with one of these ("…, Kel. Sukajadi"; not "…, lampu mati")
_CLAUSE = re.compile(r",[ \t]*(?!(?:jl|jln|jalan|gg|gang|no|nomor|rt|rw|kel|kelurahan|kec|kecamatan|desa|ds|dusun|dsn|"
                     r"kab|kabupaten|kota|kp|kampung|blok|komp|komplek|perum|perumahan|[0-9])\b)", re.I)


def _clean_name(text: str, start: int, raw: str, cased: bool) -> tuple[int, int] | None:
    """Trim ``raw`` (found at ``start``) to its leading run of name-like words; None if nothing is left."""
    end = start
    for m in _WORD.finditer(raw):
        word = m.group().lower().rstrip(".")
        if word in _NOT_NAME or (cased and not m.group()[0].isupper()):
            break
        end = start + m.end()
    return (start, end) if end > start else None


def _display_names(text: str, names: list[str] | tuple[str, ...]) -> list[Span]:
    spans: list[Span] = []
    low = text.lower()
    for name in names:
        full = " ".join(_WORD.findall(name or ""))
        if len(full) < 3 or full.lower() in _NOT_NAME:
            continue
        parts = [full] + [w for w in full.split() if len(w) >= 4 and w.lower() not in _NOT_NAME] \
            if " " in full else [full]
        for part in parts:
            rx = re.compile(r"(?<![\w@])" + re.escape(part.lower()) + r"(?!\w)")
            spans.extend((m.start(), m.end(), "name") for m in rx.finditer(low))
    return spans


def find_reporter(text: str, names: list[str] | tuple[str, ...] = ()) -> list[Span]:
    """Spans of the reporter's own name and home address in ``text`` (may overlap; the caller merges)."""
    spans: list[Span] = []
    for rx, cased in ((_INTRO, False), (_SAYA_NAME, True), (_CLOSING, None)):
        for m in rx.finditer(text):
            # a closing name written in lower case counts only when set apart (comma, new line)
            must_case = cased if cased is not None else not re.search(r"[,\n:\-]", m.group("sep") or "")
            got = _clean_name(text, m.start("name"), m.group("name"), bool(must_case))
            if got:
                spans.append((got[0], got[1], "name"))
    if names:
        spans.extend(_display_names(text, names))
    for cue in _ADDRESS_CUE.finditer(text):
        start = cue.end()
        window = text[start:start + _WINDOW]
        stop = _SENTENCE_END.search(window)
        window = window[:stop.start()] if stop else window
        stop = _CLAUSE.search(window)
        window = window[:stop.start()] if stop else window
        found = sorted((start + m.start(), start + m.end()) for rx in (_STREET, _NUMBER, _RTRW)
                       for m in rx.finditer(window))
        for a, b in found:  # "Jl. Melati No. 12 RT 03/RW 05" is one address, masked as one
            if spans and spans[-1][2] == "address" and a <= spans[-1][1] + 1 and not text[spans[-1][1]:a].strip():
                spans[-1] = (spans[-1][0], max(b, spans[-1][1]), "address")
            else:
                spans.append((a, b, "address"))
    return spans
