"""Language of the body: Indonesian, English, Javanese, Sundanese… or ``und`` for too little text.

py3langid (maintained fork of langid.py, model shipped inside the wheel, no download at run
time) restricted to the languages citizens write to LAPOR! in. It does not know Sundanese,
so a small lexicon of unmistakable Sundanese function words decides that one. Malay is
reported as Indonesian: the two are indistinguishable in short complaints.
"""

from __future__ import annotations

import re

from py3langid.langid import MODEL_FILE, LanguageIdentifier

from normalizer.text import raw_tokens

MIN_LETTERS = 12
MIN_WORDS = 3
_LANGS = ["id", "en", "jv", "ms", "ace", "nl", "ar", "zh"]
_identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
_identifier.set_languages(_LANGS)
# the full 142-language table (27 MB) is only needed to call set_languages again: drop it
_identifier._full_model = None
_ALIASES = {"ms": "id"}
_SUNDA = frozenset({
    "teu", "henteu", "abdi", "punten", "nuhun", "hatur", "kumaha", "naon", "atuh", "mah", "urang", "sareng",
    "tos", "acan", "teh", "pisan", "kedah", "parantos", "dugi", "ayeuna", "kamari", "ieu", "eta", "nya", "bade",
    "anjeun", "nembe", "tiasa",
})
_JAWA = frozenset({
    "ora", "opo", "ngopo", "piye", "wis", "durung", "nggih", "mboten", "sampun", "dalan", "kulo", "kula",
    "panjenengan",
})
_INDONESIAN = frozenset({
    "yang", "yg", "dan", "di", "ke", "dari", "tidak", "gk", "ga", "tdk", "sudah", "udh", "sdh", "belum", "blm",
    "ini", "itu", "untuk", "utk", "dengan", "dgn", "saya", "sy", "kami", "ada", "tolong", "tlg", "mohon", "mhn",
    "karena", "krn", "sejak", "juga", "tapi", "kalau", "klo", "bisa", "akan", "sangat", "segera", "warga",
    "bagaimana", "gmn", "apakah", "kapan", "padahal", "masih", "harus", "sampai", "lagi", "pak", "bu", "min",
})
_ENGLISH = frozenset({"the", "is", "are", "and", "of", "to", "please", "my", "have", "been", "for", "with", "this"})
_LETTERS = re.compile(r"[^\W\d_]")
_URLS = re.compile(r"https?://\S+|[@#]\w+")


MAX_CHARS = 600  # enough to tell; keeps long emails as cheap as an SMS


def detect(text: str, toks: list[str] | None = None) -> str:
    """ISO 639-1/3 code of ``text``, or ``und`` when there is too little to tell."""
    text = _URLS.sub(" ", text[:MAX_CHARS])
    if toks is None:
        toks = raw_tokens(text)
    if len(toks) < MIN_WORDS or len(_LETTERS.findall(text)) < MIN_LETTERS:
        return "und"
    sunda = sum(1 for t in toks if t in _SUNDA)
    if sunda >= 3 and sunda >= len(toks) // 6:
        return "su"
    # unmistakable Indonesian (many function words, no English/Javanese ones): skip the model
    ind = sum(1 for t in toks if t in _INDONESIAN)
    if ind >= 4 and ind * 6 >= len(toks) and sunda == 0 and _ENGLISH.isdisjoint(toks) and _JAWA.isdisjoint(toks):
        return "id"
    lang, _ = _identifier.classify(text)
    if lang in ("id", "ms") and sum(1 for t in toks if t in _JAWA) >= 2:
        return "jv"
    return _ALIASES.get(lang, lang)
