"""Language of the body: Indonesian, English, Javanese, Sundanese… or ``und`` for too little text.

The model is py3langid's naive Bayes over byte n-grams (a maintained fork of langid.py), restricted
to the languages citizens write to LAPOR! in and exported by ``scripts/export_langid_model.py``
into ``normalizer/data/langid-8.bin`` (~3 MB in memory): scoring it here in pure Python gives
py3langid's answers without loading numpy and its 142-language tables into every worker
(~55 MB). It does not know Sundanese, so a small lexicon of unmistakable Sundanese function
words decides that one. Malay is reported as Indonesian: the two are indistinguishable in short
complaints.
"""

from __future__ import annotations

import json
import math
import re
import sys
import unicodedata
import zlib
from array import array
from collections import Counter
from pathlib import Path

from normalizer.text import raw_tokens

MIN_LETTERS = 12
MIN_WORDS = 3
MODEL_PATH = Path(__file__).parent / "data" / "langid-8.bin"
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
# MIN_LETTERS letters anywhere: stops at the twelfth (counting every letter of a 600-character
# text was a list of ~500 strings per complaint); the two classes are disjoint, so it is linear
_ENOUGH_LETTERS = re.compile(rf"(?:[^\W\d_][\W\d_]*){{{MIN_LETTERS}}}")
_URLS = re.compile(r"https?://\S+|[@#]\w+")


_LOG2 = math.log1p(1.0)
_MAGIC = b"LANGID8-DA"
_ARRAYS = {"base": "i", "check": "H", "fail": "i", "emit": "i"}  # the file's arrays, in order
MAX_CHARS = 600  # enough to tell; keeps long emails as cheap as an SMS


class NaiveBayesModel:
    """py3langid's classifier over a fixed set of languages, without numpy.

    py3langid walks a byte automaton that emits, at each byte of the UTF-8 text, the longest
    feature n-gram ending there; a language's score is
    ``sum(log1p(count) * log P(feature | language)) + log P(language)``; the best score wins,
    ties to the first language in the model's order, and a text with no feature at all gets the
    first language (py3langid's uniform distribution). The same automaton is kept here as a
    double array (four flat arrays, layout in ``scripts/export_langid_model.py``) and the
    36,109 distinct weight rows as one bytes table: ~3 MB per process where a dict of the
    100,053 features and one of their 3-byte ends took ~14 MB, and a couple of array look-ups
    per byte instead of a few dict ones. (``base`` as a list of shared ints would spare the
    int each array look-up makes, ~10 % of a call, for ~1.6 MB more: not worth it per worker.)
    """

    def __init__(self, path: Path) -> None:
        raw = zlib.decompress(path.read_bytes())
        first = raw.index(b"\n")
        second = raw.index(b"\n", first + 1)
        if raw[:first] != _MAGIC:
            raise ValueError(f"{path}: not a language model export")
        header = json.loads(raw[first + 1:second])
        self.classes: list[str] = header["classes"]
        self.priors: list[float] = header["priors"]
        self._width = len(self.classes)
        self._row_size = 4 * self._width  # float32 per language
        slots = header["slots"]
        arrays = []
        pos = second + 1
        for code in _ARRAYS.values():
            table = array(code)
            table.frombytes(raw[pos:pos + table.itemsize * slots])
            if sys.byteorder != "little":
                table.byteswap()
            arrays.append(table)
            pos += table.itemsize * slots
        self._base, self._check, self._fail, self._emit = arrays
        self._row_shift: int = header["row_shift"]  # a feature id >> row_shift: its row's byte offset
        self._rows = raw[pos:]  # the distinct weight rows, float32 little-endian
        if len(self._rows) != header["rows"] * self._row_size or len(self._emit) != slots:
            raise ValueError(f"{path}: truncated or padded model")
        if sys.byteorder != "little":
            swapped = array("f", self._rows)
            swapped.byteswap()
            self._rows = swapped.tobytes()

    @staticmethod
    def encode(text: str) -> bytes:
        """py3langid's text preparation: an all-caps text is lower-cased, NFC, UTF-8."""
        if text.isupper():
            text = text.lower()
        return unicodedata.normalize("NFC", text).encode("utf8", errors="surrogatepass")

    def _emissions(self, data: bytes) -> list[int]:
        """The id of the longest feature ending at each byte of ``data``, -1 where none does."""
        base, check, fail, emit = self._base, self._check, self._fail, self._emit
        s = 0
        ids: list[int] = []
        add = ids.append
        for byte in data:
            t = base[s] + byte
            while check[t] != byte:  # no such child: the longest suffix in the trie that has one
                s = fail[s]
                t = base[s] + byte
            s = t
            add(emit[s])
        return ids

    def features(self, data: bytes) -> list[int]:
        """The longest feature n-gram ending at each byte of ``data`` (none at some bytes), as
        feature ids (one int per feature, see ``_weighted_sum``)."""
        return [f for f in self._emissions(data) if f >= 0]

    def scores(self, text: str) -> list[float]:
        """Unnormalized log score per language (``classes`` order); all 0.0 without features."""
        emitted = self._emissions(self.encode(text))
        counts = Counter(emitted)
        unmatched = counts.pop(-1, 0)  # bytes where no feature ends
        if not counts:
            return [0.0] * self._width
        totals = self._weighted_sum(list(counts), _LOG2)  # as if each feature occurred once
        if len(counts) + unmatched != len(emitted):
            repeated: dict[int, list[int]] = {}
            for f, c in counts.most_common():
                if c == 1:
                    break
                repeated.setdefault(c, []).append(f)
            for c, ids in repeated.items():
                for k, v in enumerate(self._weighted_sum(ids, math.log1p(c) - _LOG2)):
                    totals[k] += v
        return [t + p for t, p in zip(totals, self.priors, strict=True)]

    def _weighted_sum(self, ids: list[int], weight: float) -> list[float]:
        width, size, shift, table = self._width, self._row_size, self._row_shift, self._rows
        # comprehensions: map() over the arrays' and bytes' slot wrappers costs a third more
        values = memoryview(b"".join([table[i:i + size] for i in [f >> shift for f in ids]])).cast("f")
        return [weight * sum(values[k::width]) for k in range(width)]

    def classify(self, text: str) -> str:
        scores = self.scores(text)
        return self.classes[max(range(len(scores)), key=scores.__getitem__)]


_model = NaiveBayesModel(MODEL_PATH)


def detect(text: str, toks: list[str] | None = None) -> str:
    """ISO 639-1/3 code of ``text``, or ``und`` when there is too little to tell."""
    text = _URLS.sub(" ", text[:MAX_CHARS])
    if toks is None:
        toks = raw_tokens(text)
    if len(toks) < MIN_WORDS or not _ENOUGH_LETTERS.search(text):
        return "und"
    sunda = sum(1 for t in toks if t in _SUNDA)
    if sunda >= 3 and sunda >= len(toks) // 6:
        return "su"
    # unmistakable Indonesian (many function words, no English/Javanese ones): skip the model
    ind = sum(1 for t in toks if t in _INDONESIAN)
    if ind >= 4 and ind * 6 >= len(toks) and sunda == 0 and _ENGLISH.isdisjoint(toks) and _JAWA.isdisjoint(toks):
        return "id"
    lang = _model.classify(text)
    if lang in ("id", "ms") and sum(1 for t in toks if t in _JAWA) >= 2:
        return "jv"
    return _ALIASES.get(lang, lang)
