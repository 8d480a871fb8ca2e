"""``possible_spam``: promotion, online gambling and loan-shark cues, or a flood of repeats.

Only a flag for the admins' queue: LAPOR! never drops a citizen's message, and real
complaints *about* gambling or loan sharks must survive, so a cue list alone is not enough —
a message needs promotional signals (links, "daftar sekarang", bonus, WA numbers to contact)
to score as spam. Repeats are counted by the dispatcher (``dispatcher/enrich.py``) under
``fingerprint(text)`` and passed in as ``repeat_count``.
"""

from __future__ import annotations

import hashlib
import re

from normalizer.context import REPEAT_THRESHOLD  # the default of settings.spam_repeat_threshold
from normalizer.text import raw_tokens

SPAM_SCORE = 4

_CUES: list[tuple[re.Pattern[str], int]] = [(re.compile(p, re.I), w) for p, w in [
    (r"\b(?:slot|gacor|maxwin|jackpot|scatter|rtp|zeus|olympus|mahjong\s+ways)\b", 2),
    (r"\b(?:togel|toto\s*gel|judol|casino|kasino|sbobet|parlay|taruhan)\b", 1),
    (r"\bdeposit\b|\bdepo\s*\d|\bwd\b|\bwithdraw|\bbonus\s+(?:new\s+member|\d+\s*%|deposit)|\bnew\s+member\b", 3),
    (r"\b(?:pinjaman|pinjol|dana\s+tunai|kredit)\b.{0,40}\b(?:cepat|cair|tanpa\s+(?:jaminan|agunan|bi\s*checking)"
     r"|bunga\s+rendah|langsung\s+cair)\b", 3),
    (r"\b(?:promo|diskon|gratis\s+ongkir|order\s+sekarang|daftar\s+sekarang|klik\s+link|info\s+lengkap|"
     r"hubungi\s+(?:wa|whatsapp|admin)|chat\s+admin|join\s+(?:grup|group)|followers|subscribe)\b", 2),
    (r"\b(?:dijamin|100\s*%|terpercaya|resmi\s+dan\s+terpercaya|tanpa\s+modal|penghasilan\s+(?:jutaan|tambahan))\b",
     1),
    (r"https?://|www\.|\bbit\.ly\b|\b[a-z0-9-]+\.(?:com|net|xyz|vip|club|site|online|top|live)\b", 2),
    (r"(?:menang|hadiah|selamat\s+anda)\b.{0,40}\b(?:juta|undian|hadiah|pemenang)\b", 2),
]]
# words that mark a citizen *reporting* gambling/loans rather than advertising them
_REPORTING = re.compile(r"\b(?:laporkan|melaporkan|lapor|tolong|mohon|resah|meresahkan|diberantas|ditindak|"
                        r"ditutup|diblokir|korban|tertipu|diteror|diancam|meneror)\b", re.I)


# words without which no message reaches SPAM_SCORE: the regexes only run when one is present
_TRIGGERS = frozenset(re.findall(r"\w+", """
    slot gacor maxwin jackpot scatter rtp zeus olympus mahjong togel toto judol casino kasino sbobet parlay taruhan
    deposit depo wd withdraw bonus member pinjaman pinjol kredit promo diskon followers subscribe dijamin
    terpercaya modal penghasilan menang hadiah undian http https www bit vip xyz club
"""))


def cue_score(text: str, toks: list[str] | None = None) -> int:
    if toks is None:
        toks = raw_tokens(text)
    if _TRIGGERS.isdisjoint(toks) and "100" not in text:
        return 0
    score = sum(w for rx, w in _CUES if rx.search(text))
    if score and _REPORTING.search(text):
        score -= 3
    return score


def is_spam(text: str, repeat_count: int = 0, threshold: int = REPEAT_THRESHOLD,
            toks: list[str] | None = None) -> bool:
    """Promotional/gambling/loan-shark text, or the same text sent ``threshold`` times or more."""
    return repeat_count >= threshold or cue_score(text, toks) >= SPAM_SCORE


def fingerprint(text: str) -> str:
    """Hash of the text folded to its words: case, spacing, punctuation and emoji don't change it."""
    return hashlib.blake2b(" ".join(raw_tokens(text)).encode(), digest_size=12).hexdigest()


def fingerprint_words(text: str) -> list[str]:
    """The words ``fingerprint`` hashes (empty: nothing to compare)."""
    return raw_tokens(text)
