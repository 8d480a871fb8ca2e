"""Text tidying shared by the normalizer and adapters: Unicode, invisible characters, whitespace."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator

# zero-width and bidi controls; emoji joiners (ZWJ U+200D, VS16 U+FE0F) are kept so emoji survive
_INVISIBLE = re.compile("[\u200b\u200c\u200e\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\u00ad]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
_BLANK_LINES = re.compile(r"\n{3,}")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")


def tidy(text: str) -> str:
    """NFC, invisible/control characters removed, runs of spaces folded, at most one blank line."""
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    # plain printable ASCII (most messages) has nothing for the character patterns: skip their scans
    plain = text.isascii() and text.replace("\n", " ").isprintable()
    if not plain:
        text = _INVISIBLE.sub("", text)
        text = _CONTROL.sub("", text)
    lines = [(line if plain and "  " not in line else _SPACES.sub(" ", line)).strip() for line in text.split("\n")]
    text = "\n".join(lines)
    return (_BLANK_LINES.sub("\n\n", text) if "\n\n\n" in text else text).strip()


def cut_at_word(text: str, limit: int) -> str:
    """At most ``limit`` characters, cut at a word boundary, with an ellipsis when cut."""
    text = text.strip()
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space >= limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:-") + "…"


# salutations that open a message but say nothing ("Yth. Admin LAPOR!", "Selamat pagi pak,")
GREETING_WORDS = frozenset({
    "pak", "bu", "bapak", "ibu", "min", "admin", "mimin", "halo", "hallo", "hai", "hi", "hello", "selamat", "pagi",
    "siang", "sore", "malam", "yth", "yang", "terhormat", "kepada", "assalamualaikum", "assalamu", "alaikum",
    "wr", "wb", "permisi", "maaf", "lapor", "lapor1708", "izin", "ijin", "dengan", "hormat",
    "salam", "sejahtera", "kak", "om", "gan", "sir", "dear", "tim", "dinas", "bapak2", "ibu2", "pagii", "kakak",
})


_THREE_WORD_CHARS = re.compile(r"\w\W*\w\W*\w")


def first_sentence(text: str) -> str:
    """The first piece with at least 3 letters that is not only a salutation."""
    fallback = None
    for piece in _pieces(text):
        piece = piece.strip()
        if not _THREE_WORD_CHARS.search(piece):  # fewer than 3 letters/digits (stops at the first 3)
            continue
        if _only_greetings(piece):
            fallback = fallback or piece
            continue
        return piece
    return fallback or text.strip()


def _only_greetings(piece: str) -> bool:
    """``all(t in GREETING_WORDS for t in raw_tokens(piece))`` without folding the whole piece: on ASCII
    text, ``fold`` changes only tokens with a "2" (reduplication) or a letter said three times, and
    never moves a token's edges, so any other token is already its folded self."""
    if not piece.isascii():
        return all(t in GREETING_WORDS for t in raw_tokens(piece))
    unsure = False
    for tok in _TOKEN.findall(piece.lower()):
        if tok in GREETING_WORDS:  # so is every word it folds to ("bapak2" -> "bapak bapak")
            continue
        if "2" in tok or _REPEATS.search(tok):
            unsure = True
        else:
            return False
    return not unsure or all(t in GREETING_WORDS for t in raw_tokens(piece))


# ``_SENTENCE_END`` with the mark inside the match: a pattern that opens with a literal in every branch is
# searched for by its first character, not tried at every position (the mark is never inside a match of
# ``_SENTENCE_END``, so the matches end where its matches end)
_SENTENCE_BREAK = re.compile(r"\.\s+|!\s+|\?\s+|\n+")


def _pieces(text: str) -> Iterator[str]:
    """``_SENTENCE_END.split(text)``, lazily: the first sentence is usually found long before the end."""
    pos = 0
    for m in _SENTENCE_BREAK.finditer(text):
        start = m.start()
        yield text[pos:start + 1] if text[start] != "\n" else text[pos:start]
        pos = m.end()
    yield text[pos:]


# --- tokens for the rule modules (classify, topics, region, spam) -------------------------

_TOKEN = re.compile(r"[0-9a-z]+")
_REPEATS = re.compile(r"([a-z])\1{2,}")  # "parahhhh" -> "parah", "tolooong" -> "tolong"
_TRIPLES = tuple(c * 3 for c in "abcdefghijklmnopqrstuvwxyz")  # what ``_REPEATS`` needs to find anything
_REDUP = re.compile(r"\b([a-z]{2,})2\b")  # "cair2" -> "cair cair" (Indonesian reduplication)

# Chat spellings people use on SMS and X, mapped to the standard word the rules are written in.
SLANG: dict[str, str] = {
    "yg": "yang", "tdk": "tidak", "gk": "tidak", "ga": "tidak", "gak": "tidak", "nggak": "tidak",
    "ngga": "tidak", "enggak": "tidak", "engga": "tidak", "g": "tidak", "tak": "tidak", "kagak": "tidak",
    "blm": "belum", "blum": "belum", "udh": "sudah", "sdh": "sudah", "udah": "sudah", "dah": "sudah",
    "gmn": "bagaimana", "gimana": "bagaimana", "bgmn": "bagaimana", "gmna": "bagaimana",
    "bagaimn": "bagaimana", "gmana": "bagaimana",
    "mhn": "mohon", "mohn": "mohon", "tlg": "tolong", "tolonh": "tolong", "tlong": "tolong",
    "dgn": "dengan", "dg": "dengan", "utk": "untuk", "untk": "untuk", "u": "untuk",
    "krn": "karena", "karna": "karena", "krna": "karena", "sm": "sama", "jg": "juga", "jgn": "jangan",
    "sy": "saya", "sya": "saya", "aku": "saya", "gw": "saya", "gue": "saya", "kmi": "kami",
    "bpk": "bapak", "pak": "bapak", "bu": "ibu", "min": "admin", "mimin": "admin",
    "tp": "tapi", "tpi": "tapi", "klo": "kalau", "kalo": "kalau", "kl": "kalau", "bs": "bisa",
    "bsa": "bisa", "dr": "dari", "dri": "dari", "org": "orang", "bgt": "banget", "bngt": "banget",
    "lg": "lagi", "lgi": "lagi", "sj": "saja", "aja": "saja", "aj": "saja", "sampe": "sampai",
    "smp": "sampai", "hrs": "harus", "msh": "masih", "masi": "masih", "bln": "bulan", "thn": "tahun",
    "th": "tahun", "hr": "hari", "mgg": "minggu", "skrg": "sekarang", "skrang": "sekarang",
    "knp": "kenapa", "napa": "kenapa", "kpn": "kapan", "dmn": "dimana", "dimn": "dimana",
    "brp": "berapa", "brapa": "berapa", "apkh": "apakah", "apa2": "apa", "tau": "tahu", "tnya": "tanya",
    "nanya": "tanya", "nny": "tanya", "info": "informasi", "infonya": "informasi", "inpo": "informasi",
    "sblm": "sebelum", "stlh": "setelah", "trs": "terus", "trus": "terus", "bnyk": "banyak",
    "byk": "banyak", "pdhl": "padahal", "sdg": "sedang", "lbh": "lebih", "bnr": "benar", "emg": "memang",
    "mmg": "memang", "dpt": "dapat", "dapet": "dapat", "jln": "jalan", "jl": "jalan", "rmh": "rumah",
    "sklh": "sekolah", "skolah": "sekolah", "pemkab": "pemerintah", "pemkot": "pemerintah",
    "pemda": "pemerintah", "pemprov": "pemerintah", "kades": "kepala desa", "sktr": "sekitar",
    "bener": "benar", "cmn": "cuma", "cm": "cuma", "mulu": "melulu", "ajah": "saja",
    "rusaak": "rusak", "rsak": "rusak", "ruksak": "rusak", "perbaikin": "perbaiki", "benerin": "perbaiki",
    "dibenerin": "diperbaiki", "diperbaikin": "diperbaiki", "dibetulin": "diperbaiki",
    "numpuk": "menumpuk", "makasih": "terima kasih", "makasi": "terima kasih", "mksh": "terima kasih",
    "trims": "terima kasih", "thx": "terima kasih", "cepet": "cepat", "biar": "supaya",
    "ancur": "hancur", "bolong": "berlubang", "rusakk": "rusak", "mati2": "mati",
}


def fold(text: str) -> str:
    """Lower-case, accents stripped, letter floods shortened: the form rules are matched in."""
    text = text.lower()
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text)
        text = "".join(c for c in text if not unicodedata.combining(c))
    if _has_flood(text):  # most texts have none: skip the pattern's scan
        text = _REPEATS.sub(r"\1\1", text)
    return _REDUP.sub(r"\1 \1", text) if _letter_then_2(text) else text


def _has_flood(text: str) -> bool:
    """Whether lower-case ``text`` holds a letter a-z three times in a row: what ``_REPEATS`` needs to match.

    On ASCII text every character is one byte of an integer and the test is a few integer operations
    over all of them at once (~4x less than 26 substring scans): byte i of ``differs`` is 0 exactly when
    characters i, i+1 and i+2 are equal; adding 0x7F (0x1F, 0x05) to 7-bit bytes never carries into the
    next byte, so each byte's high bit answers "non-zero" ("at least 'a'", "past 'z'") for that byte alone.
    """
    if not text.isascii():
        return any(map(text.__contains__, _TRIPLES))
    x = int.from_bytes(text.encode("ascii"), "little")
    ones = int.from_bytes(b"\x01" * len(text), "little")
    differs = (x ^ (x >> 8)) | (x ^ (x >> 16))
    same3 = ~(((differs & ones * 0x7F) + ones * 0x7F) | differs)
    letter = (x + ones * 0x1F) & ~(x + ones * 0x05)
    return bool(same3 & letter & (ones << 7))


def _letter_then_2(text: str) -> bool:
    """A letter right before a "2": what ``_REDUP`` needs to match at all (phone numbers are full of 2s)."""
    i = text.find("2", 1)
    while i > 0:
        if "a" <= text[i - 1] <= "z":
            return True
        i = text.find("2", i + 1)
    return False


_TOKEN_P = re.compile(r"[0-9a-z]+|,")
_TO_COMMA = str.maketrans(dict.fromkeys(";:!?()[]\n/", ","))  # each separating mark is one "," token


# ``_TO_COMMA`` for ASCII bytes: a table look-up per byte instead of a dictionary look-up per character
_TO_COMMA_ASCII = bytes(ord(",") if chr(b) in ";:!?()[]\n/" else b for b in range(256))


def place_tokens(text: str) -> list[str]:
    """``raw_tokens`` plus "," for punctuation that separates names ("Permisi pak, Kalsel")."""
    folded = fold(text)
    if folded.isascii():
        return _TOKEN_P.findall(folded.encode("ascii").translate(_TO_COMMA_ASCII).decode("ascii"))
    return _TOKEN_P.findall(folded.translate(_TO_COMMA))


def raw_tokens(text: str) -> list[str]:
    """Folded alphanumeric tokens, chat spellings kept (region names are matched on these)."""
    return _TOKEN.findall(fold(text))


_TWO_WORDS = frozenset(k for k, v in SLANG.items() if " " in v)  # the spellings that expand to 2 words


def expand(tokens: list[str]) -> list[str]:
    """``raw_tokens`` with chat spellings expanded to the standard word (may yield 2 words)."""
    if _TWO_WORDS.isdisjoint(tokens):  # the usual case: one word for one token
        return list(map(SLANG.get, tokens, tokens))
    out: list[str] = []
    for tok in tokens:
        std = SLANG.get(tok)
        if std is None:
            out.append(tok)
        elif " " in std:
            out.extend(std.split())
        else:
            out.append(std)
    return out


def words(text: str) -> list[str]:
    """Folded tokens with chat spellings expanded: the form topic and class cues are matched in."""
    return expand(raw_tokens(text))
