"""A small linear model over words and character n-grams: classification and topic, pure Python.

Rules fit the templates they were written with; other people's wording ("kenapa tidak dibangun
… saja?", a plain question without "mohon info") needs a model that weighs many small cues.
Features are expanded words, word pairs, the first 5 and last 4 characters of longer words
(``diperbaiki``/``perbaikan``/``diperbaikii`` still share cues) and the rule scores; the weights
(``data/classifier.json``, trained offline by ``bench/train_classifier.py``) are loaded once,
and scoring one message is a few hundred dictionary look-ups.
"""

from __future__ import annotations

import json
import struct
from array import array
from dataclasses import dataclass
from functools import cache
from importlib import resources
from itertools import chain

MAX_HEAD_WORDS = 60  # a long email is judged on its opening and its closing (labelled texts are ≤ 40 words)
MAX_TAIL_WORDS = 20
MODEL_FILE = "classifier.json"
Pairs = tuple[tuple[int, float], ...]  # a feature's non-zero (class index, weight) pairs


def features(words: list[str], raw: str, extra: list[str] | tuple[str, ...] = ()) -> list[str]:
    """Feature names of one message: ``words`` are expanded lower-case words (``text.expand``),
    ``raw`` the text as written (question marks), ``extra`` caller-provided cues (rule scores)."""
    return sorted(feature_set(words, raw, extra))


def feature_set(words: list[str], raw: str, extra: list[str] | tuple[str, ...] = ()) -> set[str]:
    """``features`` before sorting (a scorer that keeps only the features it knows sorts fewer)."""
    wds = [w for w in words if w != ","]
    if len(wds) > MAX_HEAD_WORDS + MAX_TAIL_WORDS:
        wds = wds[:MAX_HEAD_WORDS] + wds[-MAX_TAIL_WORDS:]
    feats: set[str] = set(extra)
    add = feats.add
    prev = "^"
    for w in wds:
        add("w:" + w)
        add("b:" + prev + "_" + w)
        prev = w
        if len(w) >= 6:  # character n-grams at the word's edges: affixes and typos in the middle
            add("p:" + w[:5])
            add("s:" + w[-4:])
    if wds:
        add("b:" + prev + "_$")
    if "?" in raw:
        add("q")
        if raw.rstrip().endswith("?") or raw.rstrip(" 🙏.!").endswith("?"):
            add("q$")
    add("len:" + ("s" if len(wds) < 8 else "m" if len(wds) < 30 else "l"))
    return feats


@dataclass(frozen=True)
class LinearModel:
    classes: tuple[str, ...]
    bias: tuple[float, ...]
    weights: dict[str, tuple[tuple[int, float], ...]]  # feature -> its non-zero (class index, weight) pairs

    def scores(self, feats: list[str]) -> list[float]:
        out = list(self.bias)
        get = self.weights.get
        for f in feats:
            pairs = get(f)
            if pairs is not None:
                for k, w in pairs:
                    out[k] += w
        return out

    def predict(self, feats: list[str]) -> tuple[str, float]:
        """(best class, margin over the runner-up); ties go to the earlier class (deterministic)."""
        s = self.scores(feats)
        order = sorted(range(len(s)), key=lambda k: (-s[k], k))
        margin = s[order[0]] - s[order[1]] if len(order) > 1 else 0.0
        return self.classes[order[0]], margin

    def ranked(self, feats: list[str]) -> list[tuple[str, float]]:
        s = self.scores(feats)
        return sorted(((c, v) for c, v in zip(self.classes, s, strict=True)), key=lambda x: -x[1])


def from_dict(data: dict[str, object]) -> LinearModel:
    """A model from its JSON form: ``classes``, ``bias``, ``weights`` (feature -> one weight per class)."""
    return _build(*_tables({"model": data}))["model"]


@cache
def models() -> dict[str, LinearModel]:
    """The shipped models by task (``classification``, ``topic``), loaded once.

    The parse (a float and a list per weight) is dropped before the models are built: what they need
    is first copied into two large objects outside Python's small-object arenas, so no surviving
    object shares an arena with the parse and its arenas go back to the system (~6 MB per process)."""
    text = resources.files("normalizer").joinpath("data", MODEL_FILE).read_text(encoding="utf-8")
    return _build(*_tables(json.loads(text)["models"]))


def _tables(tasks: dict[str, dict[str, object]]) -> tuple[str, bytes]:
    """(JSON of each task's classes, bias and feature names; every weight as float64, row after row)."""
    meta: dict[str, list[list[str] | list[float]]] = {}
    numbers = array("d")
    for task, data in tasks.items():
        classes = [str(c) for c in data["classes"]]  # type: ignore[attr-defined]
        bias = [float(b) for b in data["bias"]]  # type: ignore[attr-defined]
        weights: dict[str, list[float]] = data["weights"]  # type: ignore[assignment]
        if len(bias) != len(classes) or any(len(ws) != len(classes) for ws in weights.values()):
            raise ValueError("classifier weights do not match its classes")
        meta[task] = [classes, bias, [str(f) for f in weights]]
        for ws in weights.values():
            numbers.extend([float(x) for x in ws])
    return json.dumps(meta), numbers.tobytes()  # floats round-trip exactly through repr (json) and bytes


def _build(names: str, numbers: bytes) -> dict[str, LinearModel]:
    """The models from ``_tables``; each feature keeps its non-zero (class index, weight) pairs.

    The weights take ~900 distinct values per model, so equal floats, pairs and whole rows are one
    object each (4,200 rows for 11,700 features): the same numbers in a third of the memory."""
    values = memoryview(numbers).cast("d")
    floats: dict[float, float] = {}
    pairs: dict[tuple[int, float], tuple[int, float]] = {}
    rows: dict[Pairs, Pairs] = {}
    out: dict[str, LinearModel] = {}
    pos = 0
    for task, (classes, bias, feats) in json.loads(names).items():
        width = len(classes)
        weights: dict[str, Pairs] = {}
        for f in feats:
            row: list[tuple[int, float]] = []
            for k, w in enumerate(values[pos:pos + width]):
                if w:
                    w = floats.setdefault(w, w)
                    pair = (k, w)
                    row.append(pairs.setdefault(pair, pair))
            pos += width
            if row:
                packed = tuple(row)
                weights[f] = rows.setdefault(packed, packed)
        out[task] = LinearModel(tuple(classes), tuple(bias), weights)
    return out


SCALE = 10_000  # the shipped weights are multiples of 1/SCALE (bench/train_classifier.py rounds them)
_LANE_BITS = 64
_WORD_CACHE = 20_000  # words whose known features are remembered (cleared when full)
_OFFSET = 1 << 40  # added to each lane of each row, so a lane never goes negative (and never borrows)


class JointModel:
    """Both tasks' scores in one pass over a message's features, decided exactly as the models apart.

    ``int_scores`` adds, per feature, one integer holding every class's weight (in 1/SCALE units,
    one 64-bit lane per class): exact, and independent of the order. ``scores`` is the float path,
    the same sums as ``LinearModel.scores`` (bias first, then the features in sorted order). The two
    differ by far less than 1/SCALE, so a decision taken on the exact sums is the float decision
    unless two sums are exactly tied (or exactly a threshold apart): the caller then uses ``scores``.
    """

    def __init__(self, first: LinearModel, second: LinearModel) -> None:
        self.first, self.second = first, second
        self._n1 = len(first.classes)
        self._lanes = self._n1 + len(second.classes)
        self.exact = _on_grid(first) and _on_grid(second)
        self._bias = self._pack([*first.bias, *second.bias])
        empty: Pairs = ()
        shared: dict[int, int] = {}  # equal rows are one int (2,600 distinct for 7,000 features)
        self._rows: dict[str, int] = {}
        for f in {**first.weights, **second.weights}:
            row = self._pack(self._dense(first.weights.get(f, empty), second.weights.get(f, empty)))
            self._rows[f] = shared.setdefault(row, row)
        self._second_rows: dict[str, int] = {}  # the second model's own cues (topic rule cues), packed on demand
        self._unpack = struct.Struct(f"<{self._lanes}Q").unpack
        # every known feature has an id (its row: ``_id_rows[id]``), so a message's features are a set of
        # ints; a word pair ("b:<first>_<second>"; words hold no "_") is looked up by the tuple ``zip`` makes
        self._ids: dict[str, int] = {f: i for i, f in enumerate(self._rows)}
        self._id_rows: list[int] = list(self._rows.values())
        self._pair_ids: dict[tuple[str, str], int] = {}
        for f, i in self._ids.items():
            if f.startswith("b:"):
                one, _, two = f[2:].partition("_")
                self._pair_ids[(one, two)] = i
        self._word_ids = _WordIds(self._ids)

    def _dense(self, p1: Pairs, p2: Pairs) -> list[float]:
        row = [0.0] * self._lanes
        for k, w in p1:
            row[k] = w
        for k, w in p2:
            row[self._n1 + k] = w
        return row

    def _pack(self, values: list[float]) -> int:
        return sum((round(v * SCALE) + _OFFSET) << (_LANE_BITS * k) for k, v in enumerate(values))

    def int_scores(self, feats: set[str], second_extra: list[str]) -> tuple[list[int], list[int]] | None:
        """Exact scores in 1/SCALE units: (first model's over ``feats``, second's over ``feats`` then
        ``second_extra``); None when the weights are not on the 1/SCALE grid."""
        if not self.exact:
            return None
        rows = self._rows
        return self._lanes_of([rows[f] for f in feats if f in rows], second_extra)

    def _lanes_of(self, found: list[int], second_extra: list[str]) -> tuple[list[int], list[int]]:
        for f in second_extra:
            row = self._second_rows.get(f)
            if row is None:
                pairs = self.second.weights.get(f)
                if pairs is None:
                    continue
                row = self._second_rows[f] = self._pack(self._dense((), pairs))
            found.append(row)
        total = sum(found, self._bias)
        off = (len(found) + 1) * _OFFSET
        lanes = list(map(off.__rsub__, self._unpack(total.to_bytes(self._lanes * 8, "little"))))  # each v - off
        return lanes[:self._n1], lanes[self._n1:]

    def message_int_scores(self, words: list[str], raw: str, extra: list[str],
                           second_extra: list[str]) -> tuple[list[int], list[int]] | None:
        """``int_scores(feature_set(words, raw, extra), second_extra)`` without building the features
        no model knows: a word's own features (``w:``, ``p:``, ``s:``) are looked up once per word and
        remembered (words repeat a lot), its pairs by the tuples ``zip`` makes; the features are ids in
        one set, so the per-word work runs in C. tests/normalizer/test_fast_paths.py checks the two agree."""
        if not self.exact:
            return None
        wds = [w for w in words if w != ","] if "," in words else words
        if len(wds) > MAX_HEAD_WORDS + MAX_TAIL_WORDS:
            wds = wds[:MAX_HEAD_WORDS] + wds[-MAX_TAIL_WORDS:]
        ids = self._ids
        own = chain.from_iterable(map(self._word_ids.__getitem__, wds))
        # "b:^_<first>", every "b:<w>_<next>" and "b:<last>_$" (no pair without words)
        pairs = map(self._pair_ids.get, zip(["^", *wds], [*wds, "$"], strict=True)) if wds else ()
        found: set[int | None] = set(chain(own, pairs))
        found.discard(None)
        tail = [*extra, "len:" + ("s" if len(wds) < 8 else "m" if len(wds) < 30 else "l")]
        if "?" in raw:
            tail.append("q")
            if raw.rstrip().endswith("?") or raw.rstrip(" 🙏.!").endswith("?"):
                tail.append("q$")
        found.update([ids[f] for f in tail if f in ids])
        return self._lanes_of(list(map(self._id_rows.__getitem__, found)), second_extra)  # type: ignore[arg-type]

    def known(self, feats: set[str]) -> list[str]:
        """The features either model has a weight for, sorted (the order the float sums are taken in)."""
        rows = self._rows
        return sorted([f for f in feats if f in rows])

    def scores(self, known: list[str]) -> tuple[list[float], list[float]]:
        """(first model's scores, second model's scores) over ``known`` (from ``known()``), as
        ``LinearModel.scores`` computes them."""
        one, two = list(self.first.bias), list(self.second.bias)
        empty: Pairs = ()
        get1, get2 = self.first.weights.get, self.second.weights.get
        for f in known:
            p1, p2 = get1(f, empty), get2(f, empty)
            for k, w in p1:
                one[k] += w
            for k, w in p2:
                two[k] += w
        return one, two


class _WordIds(dict[str, tuple[int, ...]]):
    """word -> the ids of its known own features; filled on first sight (``dict.__getitem__`` stays in C
    for the words already seen), cleared when it holds ``_WORD_CACHE`` words (new names, numbers)."""

    def __init__(self, ids: dict[str, int]) -> None:
        super().__init__()
        self._feature_ids = ids

    def __missing__(self, w: str) -> tuple[int, ...]:
        names = ("w:" + w, "p:" + w[:5], "s:" + w[-4:]) if len(w) >= 6 else ("w:" + w,)
        ids = self._feature_ids
        got = tuple(ids[f] for f in names if f in ids)
        if len(self) >= _WORD_CACHE:
            self.clear()
        self[w] = got
        return got


def _on_grid(model: LinearModel) -> bool:
    values = [*model.bias, *(w for pairs in model.weights.values() for _, w in pairs)]
    return all(abs(v * SCALE - round(v * SCALE)) < 1e-6 and abs(v) < 1e6 for v in values)


def unique_best(values: list[int]) -> int | None:
    """The index of the largest value, None when it is tied (the float sums would decide the tie)."""
    best = max(values)
    return values.index(best) if values.count(best) == 1 else None


@cache
def joint() -> JointModel | None:
    """The classification and topic models scored together (the normalizer's hot path); None
    when the model file lacks one of them (the callers then score each task on its own)."""
    m = models()
    if "classification" not in m or "topic" not in m:
        return None
    return JointModel(m["classification"], m["topic"])
