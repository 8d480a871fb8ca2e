"""Language of the body: Indonesian, English, Javanese, Sundanese… or ``und`` for too little text.

The model is py3langid's naive Bayes over byte n-grams (a maintained fork of langid.py), restricted
to the languages citizens write to LAPOR! in and exported by ``scripts/export_langid_model.py``
into ``normalizer/data/langid-8.bin`` (13 MB in memory): scoring it here in pure Python gives
py3langid's answers without loading numpy and its 142-language tables into every worker
(~55 MB). It does not know Sundanese, so a small lexicon of unmistakable Sundanese function
words decides that one. Malay is reported as Indonesian: the two are indistinguishable in short
complaints.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
import zlib
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
_MAX_GRAM = 8
_SELF, _LAST2 = 1, 2  # bits of NaiveBayesModel._three_byte_ends; bits 4 to _MAX_GRAM are lengths
# per bit set: the feature lengths above 3 it holds, longest first
_LONGER = tuple(tuple(n for n in range(_MAX_GRAM, 3, -1) if bits >> n & 1) for bits in range(1 << (_MAX_GRAM + 1)))
MAX_CHARS = 600  # enough to tell; keeps long emails as cheap as an SMS


class NaiveBayesModel:
    """py3langid's classifier over a fixed set of languages, without numpy.

    At each byte of the UTF-8 text the longest feature n-gram ending there is counted (what
    py3langid's tokenizer DFA emits: one feature per state); a language's score is
    ``sum(log1p(count) * log P(feature | language)) + log P(language)``; the best score wins,
    ties to the first language in the model's order, and a text with no feature at all gets the
    first language (py3langid's uniform distribution).
    """

    def __init__(self, path: Path) -> None:
        raw = zlib.decompress(path.read_bytes())
        first = raw.index(b"\n")
        second = raw.index(b"\n", first + 1)
        if raw[:first] != b"LANGID8":
            raise ValueError(f"{path}: not a language model export")
        header = json.loads(raw[first + 1:second])
        self.classes: list[str] = header["classes"]
        self.priors: list[float] = header["priors"]
        self._width = len(self.classes)
        row = 4 * self._width  # float32 per language
        body = memoryview(raw)[second + 1:]  # sliced without copies: only the keys and rows are kept
        weights: dict[bytes, bytes] = {}
        # a third of the rows are distinct (features seen equally often in each language score alike):
        # one bytes object per distinct row, found by its memoryview (hashes and compares as the bytes,
        # so a repeated row leaves no copy behind) — 4.6 MB less per process
        rows: dict[memoryview | bytes, bytes] = {}
        pos = 0
        for n_text, count in header["lengths"].items():
            n = int(n_text)
            keys = (body[i:i + n].tobytes() for i in range(pos, pos + n * count, n))
            pos += n * count
            for key, i in zip(keys, range(pos, pos + row * count, row), strict=True):
                view = body[i:i + row]
                shared = rows.get(view)
                if shared is None:
                    shared = view.tobytes()
                    rows[shared] = shared
                weights[key] = shared
            pos += row * count
        del rows
        if pos != len(body):
            raise ValueError(f"{path}: truncated or padded model")
        self._weights = weights
        if not set(map(int, header["lengths"])) <= set(range(2, _MAX_GRAM + 1)):
            raise ValueError(f"{path}: features of 2 to {_MAX_GRAM} bytes expected")
        self._ends = self._three_byte_ends(weights)

    @staticmethod
    def _three_byte_ends(weights: dict[bytes, bytes]) -> dict[bytes, int]:
        """For each 3 bytes that a feature longer than 2 bytes ends with, a bit set (a small int,
        shared by all): bit n (4 to 8) — a feature of n bytes ends with them; ``_SELF`` — the 3
        bytes are a feature; ``_LAST2`` — their last 2 bytes are."""
        # keyed by the 3-byte feature's own bytes object where there is one (a memoryview finds it
        # without a copy): 25,700 of the 27,400 keys are features
        ends: dict[memoryview | bytes, int] = {gram: 0 for gram in weights if len(gram) == 3}
        for gram in weights:
            if len(gram) > 3:
                tail = memoryview(gram)[-3:]
                bits = ends.get(tail)
                if bits is None:
                    ends[tail.tobytes()] = 1 << len(gram)
                else:
                    ends[tail] = bits | 1 << len(gram)  # the key already there (bytes) stays
        for three in ends:
            ends[three] |= _SELF if three in weights else _LAST2 if three[1:] in weights else 0
        return ends  # type: ignore[return-value]  # its keys are all bytes

    @staticmethod
    def encode(text: str) -> bytes:
        """py3langid's text preparation: an all-caps text is lower-cased, NFC, UTF-8."""
        if text.isupper():
            text = text.lower()
        return unicodedata.normalize("NFC", text).encode("utf8", errors="surrogatepass")

    def features(self, data: bytes) -> list[bytes]:
        """The longest feature n-gram ending at each byte of ``data`` (none at some bytes).

        The 3 bytes ending at a position decide most of it in one look-up: which longer
        features could end there (lengths to try, longest first) and, failing those, whether
        they or their last 2 bytes are a feature."""
        weights, ends = self._weights, self._ends.get
        found: list[bytes] = []
        add = found.append
        if data[:2] in weights:
            add(data[:2])
        for end in range(3, len(data) + 1):
            bits = ends(data[end - 3:end])
            if bits is None:  # no feature longer than 2 bytes ends with these 3 bytes
                gram = data[end - 2:end]
                if gram in weights:
                    add(gram)
                continue
            for n in _LONGER[bits]:  # longer features end with these 3 bytes: the longest present wins
                if n <= end and (gram := data[end - n:end]) in weights:
                    add(gram)
                    break
            else:
                if bits & _SELF:
                    add(data[end - 3:end])
                elif bits & _LAST2:
                    add(data[end - 2:end])
        return found

    def scores(self, text: str) -> list[float]:
        """Unnormalized log score per language (``classes`` order); all 0.0 without features."""
        found = self.features(self.encode(text))
        if not found:
            return [0.0] * self._width
        counts = Counter(found)
        totals = self._weighted_sum(list(counts), _LOG2)  # as if each feature occurred once
        if len(counts) != len(found):
            repeated: dict[int, list[bytes]] = {}
            for gram, c in counts.most_common():
                if c == 1:
                    break
                repeated.setdefault(c, []).append(gram)
            for c, grams in repeated.items():
                for k, v in enumerate(self._weighted_sum(grams, math.log1p(c) - _LOG2)):
                    totals[k] += v
        return [t + p for t, p in zip(totals, self.priors, strict=True)]

    def _weighted_sum(self, grams: list[bytes], weight: float) -> list[float]:
        width = self._width
        values = memoryview(b"".join(map(self._weights.__getitem__, grams))).cast("f")
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
