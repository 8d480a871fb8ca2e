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
from collections.abc import Iterable, Iterator
from functools import lru_cache

from normalizer import scan

Span = tuple[int, int, str]  # start, end, "name" | "address"

# words that follow a cue but are not a name ("saya Warga …", "terima kasih atas perhatiannya")
_NOT_NAME = frozenset([
    "lebih", "kurang", "jauh", "asli", "pindahan", "berasal", "datang", "pulang", "sekolah", "kerja", "bekerja",
    "sendiri", "sekeluarga", "pun", "benar", "cuma", "selalu", "dulu", "skrg", "sdh", "udah", "udh", "masih",
    "pernah", "baru", "sempat", "yg", "sy", "rasa", "bener", "sungguh", "memang", "bukan", "kan", "lah", "tetap",
    "mewakili", "atas", "nama", "seorang", "salah", "ingin", "hendak", "sekedar", "hanya", "amat", "sekali",
    "adalah", "atas", "admin", "bapak", "ibu", "pak", "bu", "bpk", "kak", "kakak", "mas", "mbak", "min",
    "mimin", "lapor", "tim", "semua", "sebelumnya", "banyak", "perhatian", "perhatiannya", "perhatiaannya",
    "warga", "ingin", "mau", "sebagai", "selaku", "orang", "pelapor", "sangat", "sudah", "tidak", "juga",
    "hanya", "dari", "yang", "di", "ke", "dan", "untuk", "atas", "nya", "ini", "itu", "kami", "kita", "mereka",
    "sekali", "sekalian", "mohon", "tolong", "sedang", "seorang", "salah", "satu", "masyarakat", "rakyat",
    "pengguna", "pelanggan", "penumpang", "pasien", "orang", "tua", "wali", "murid", "siswa", "mahasiswa",
    "guru", "petani", "nelayan", "pedagang", "karyawan", "buruh", "pegawai", "honorer", "ojol", "sopir",
    "driver", "kepala", "camat", "lurah", "bupati", "walikota", "gubernur", "menteri", "presiden", "polisi",
    "petugas", "dinas", "kantor", "bank", "pt", "jalan", "jl", "desa", "kelurahan", "kecamatan", "kabupaten",
    "kota", "provinsi", "rt", "rw", "no", "sekarang", "tadi", "kemarin", "telah", "akan", "bisa", "sudah",
    "belum", "harap", "berharap", "merasa", "mengalami", "melaporkan", "laporkan", "ingin", "mengadukan",
    "menyampaikan", "sampaikan", "bertanya", "tanya", "minta", "atas", "hormat", "salam", "wassalam", "wr",
    "wb", "warahmatullahi", "wabarakatuh", "assalamualaikum", "pagi", "siang", "sore", "malam", "selamat",
    "regards", "thanks", "best", "dear", "yth", "lagi", "ya", "yah", "dong", "deh", "kok", "sih", "nih", "tuh",
    "aja", "saja", "sekali", "banget", "please", "tolong", "respon", "responnya", "bantuannya", "kerjasamanya",
    "kerja", "sama", "tindak", "lanjut", "lanjutnya", "sebesar", "besarnya",
])
_NAME_WORD = r"[A-Za-z][A-Za-z'\-]{1,20}\.?"
_NAME = rf"(?P<name>{_NAME_WORD}(?:[ \t]+{_NAME_WORD}){{0,3}})"
# "nama saya Budi Santoso", "perkenalkan, saya Budi", "saya bernama budi"
_INTRO = re.compile(
    r"\b(?:nama\s+(?:saya|sy|aku|ku)|namaku|nama\s+lengkap\s+saya|(?:saya|sy|aku)\s+bernama|"
    r"perkenalkan[\s,]{0,3}(?:nama\s+)?(?:saya|sy|aku)?|dengan\s+saya)\b[\s:,]{0,3}(?:adalah\s+)?" + _NAME, re.I)
# "Nama: Fitri Handayani" — a form line at the start of a line
_FORM_NAME = re.compile(r"^[ \t]*nama(?:[ \t]+lengkap|[ \t]+pelapor)?[ \t]*:[ \t]*" + _NAME, re.I | re.M)
# "saya Budi dari Cibinong", "Saya Budi Santoso, warga …" (the name must be capitalized here)
_HONORIFIC = r"(?:(?:[Ii]bu|[Bb]u|[Bb]apak|[Pp]ak|[Bb]pk)\.?[ \t]+)?"
_SAYA_NAME = re.compile(r"\b(?:[Ss]aya|[Ss]y|[Aa]ku)[ \t]+" + _HONORIFIC +
                        r"(?P<name>[A-Z][a-z'\-]{1,20}(?:[ \t]+[A-Z][a-z'\-]{1,20}){0,2})"
                        r"[ \t]*,?[ \t]*(?=(?:dari|warga|asal|tinggal|selaku|sebagai|yang\s+tinggal|yang\s+beralamat|"
                        r"beralamat|ingin|mau|hendak)\b)")
# SMS in lower case: "saya joko dari kec. ngawen" — only before dari/warga/asal ("saya hilang, mau …" is no name)
_SAYA_NAME_LOWER = re.compile(r"\b(?:saya|sy|aku)[ \t]+" + _HONORIFIC +
                              r"(?P<name>[a-z][a-z'\-]{1,20})"
                              r"[ \t]*,?[ \t]*(?=(?:dari|dr|warga|asal)\b)")
# "Terima kasih, Yulia" / "Hormat saya,\nBudi" / "Salam, Rina" — the name ends its line
_CLOSING = re.compile(
    r"\b(?:terima\s*kasih|terimakasih|makasih|trims|thanks|thx|tks|hormat\s+(?:saya|kami)|salam(?:\s+hormat)?|"
    r"wassalam\w{0,20}|regards|ttd)\b(?P<sep>[ \t]*[,.!:\-]{0,3}[ \t]*(?:\n[ \t]*){0,2})" + _NAME +
    r"[ \t]*[.!]?[ \t]*(?=\n|$)", re.I)
# home address cues; the window after them is searched for street, number and RT/RW
_ADDRESS_CUE = re.compile(r"\b(?:alamat\s+(?:saya|sy|rumah\s+saya|kami|rumah)\b|alamat\s*:|(?:saya|sy|kami|aku)\s+"
                          r"(?:tinggal|berdomisili|beralamat)(?:\s+di)?|yang\s+(?:tinggal|beralamat)(?:\s+di)?|"
                          r"rumah\s+(?:saya|sy|kami)\s+(?:berada\s+)?di\b|domisili\s+(?:saya\s+)?(?:di\b)?)", re.I)
_ADDRESS_WORDS = ("alamat", "tinggal", "rumah", "domisili")
# (pattern, name must be capitalized, cue words (the pattern runs only if one occurs), the words a match
# begins with (None: at a line start, the pattern's ``^``)); ``scan.finditer_at`` tries only those positions
_SELF = ("saya", "sy", "aku")
_NAME_RULES: tuple[tuple[re.Pattern[str], bool | None, tuple[str, ...], tuple[str, ...] | None], ...] = (
    (_INTRO, False, ("nama", "kenal", "dengan saya"), ("nama", "perkenalkan", "dengan", *_SELF)),
    (_FORM_NAME, False, ("nama",), None),
    (_SAYA_NAME, True, _SELF, _SELF),
    (_SAYA_NAME_LOWER, False, _SELF, _SELF),
    (_CLOSING, None, ("kasih", "trims", "thanks", "thx", "tks", "hormat", "salam", "regards", "ttd"),
     ("terima", "makasih", "trims", "thanks", "thx", "tks", "hormat", "salam", "wassalam", "regards", "ttd")),
)
_ADDRESS_STARTS = ("alamat", "yang", "rumah", "domisili", "kami", *_SELF)
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


@lru_cache(maxsize=4096)
def _name_parts(name: str) -> tuple[str, ...]:
    """The alternatives of ``_name_pattern(name)``, longest first ("budi santoso", "santoso", "budi")."""
    full = " ".join(_WORD.findall(name)).lower()
    if len(full) < 3 or full in _NOT_NAME:
        return ()
    return (full, *(w for w in full.split() if len(w) >= 3 and w not in _NOT_NAME)) if " " in full else (full,)


@lru_cache(maxsize=4096)
def _name_pattern(name: str) -> re.Pattern[str] | None:
    """The display name and its longer parts as whole words ("Budi Santoso" → budi santoso|santoso|budi)."""
    parts = _name_parts(name)
    if not parts:
        return None
    return re.compile(r"(?<![\w@])(?:" + "|".join(re.escape(p) for p in parts) + r")(?!\w)")


@lru_cache(maxsize=4096)
def _name_search(name: str) -> tuple[re.Pattern[str] | None, tuple[str, ...]]:
    """(``_name_pattern(name)``, ``_name_parts(name)``): one cache look-up per name and message."""
    return _name_pattern(name), _name_parts(name)


def _display_names(low: str, names: list[str] | tuple[str, ...]) -> list[Span]:
    spans: list[Span] = []
    for name in names:
        rx, parts = _name_search(name or "")
        if rx is not None:
            spans.extend((m.start(), m.end(), "name") for m in scan.finditer_at(rx, low, scan.word_starts(low, parts)))
    return spans


def _newlines(text: str) -> Iterator[int]:
    i = text.find("\n")
    while i >= 0:
        yield i
        i = text.find("\n", i + 1)


def find_reporter(text: str, names: list[str] | tuple[str, ...] = ()) -> list[Span]:
    """Spans of the reporter's own name and home address in ``text`` (may overlap; the caller merges)."""
    spans: list[Span] = []
    low = text.lower()
    folded = scan.folded(text)  # == low unless the text has one of the few letters lower() handles apart
    # each pattern runs only when its cue words occur at all (most messages have none of them), and is
    # tried only where one of the words it begins with does
    starts_of: dict[tuple[str, ...], list[int]] = {}  # the two "saya …" rules begin at the same words
    for rx, cased, cue_words, begins in _NAME_RULES:
        if cue_words is not begins and not any(map(low.__contains__, cue_words)):
            continue  # (a rule whose cue words are the words it begins with finds no start without them)
        if begins is None:
            # ``^`` with re.M: a form line begins the text or follows a new line
            matches = scan.finditer_at(rx, text, [0, *(i + 1 for i in _newlines(text))])
        else:
            starts = starts_of.get(begins)
            if starts is None:
                starts = starts_of[begins] = scan.word_starts(folded, begins)
            matches = scan.finditer_at(rx, text, starts)
        for m in matches:
            # a closing name written in lower case counts only when set apart (comma, new line)
            must_case = cased if cased is not None else not re.search(r"[,\n:\-]", m.group("sep") or "")
            got = _clean_name(text, m.start("name"), m.group("name"), bool(must_case))
            if got:
                spans.append((got[0], got[1], "name"))
    if names:
        spans.extend(_display_names(low, names))
    cues: Iterable[re.Match[str]] = (scan.finditer_at(_ADDRESS_CUE, text, scan.word_starts(folded, _ADDRESS_STARTS))
                                     if any(map(low.__contains__, _ADDRESS_WORDS)) else ())
    for cue in cues:
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
