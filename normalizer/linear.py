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
from dataclasses import dataclass
from functools import cache
from importlib import resources

MAX_HEAD_WORDS = 60  # a long email is judged on its opening and its closing (labelled texts are ≤ 40 words)
MAX_TAIL_WORDS = 20
MODEL_FILE = "classifier.json"


def features(words: list[str], raw: str, extra: list[str] | tuple[str, ...] = ()) -> list[str]:
    """Feature names of one message: ``words`` are expanded lower-case words (``text.expand``),
    ``raw`` the text as written (question marks), ``extra`` caller-provided cues (rule scores)."""
    wds = [w for w in words if w != ","]
    if len(wds) > MAX_HEAD_WORDS + MAX_TAIL_WORDS:
        wds = wds[:MAX_HEAD_WORDS] + wds[-MAX_TAIL_WORDS:]
    feats: set[str] = set(extra)
    prev = "^"
    for w in wds:
        feats.add("w:" + w)
        feats.add("b:" + prev + "_" + w)
        prev = w
        if len(w) >= 6:  # character n-grams at the word's edges: affixes and typos in the middle
            feats.add("p:" + w[:5])
            feats.add("s:" + w[-4:])
    if wds:
        feats.add("b:" + prev + "_$")
    if "?" in raw:
        feats.add("q")
        if raw.rstrip().endswith("?") or raw.rstrip(" 🙏.!").endswith("?"):
            feats.add("q$")
    feats.add("len:" + ("s" if len(wds) < 8 else "m" if len(wds) < 30 else "l"))
    return sorted(feats)


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
    classes = tuple(str(c) for c in data["classes"])  # type: ignore[attr-defined]
    bias = tuple(float(b) for b in data["bias"])  # type: ignore[attr-defined]
    raw = {str(f): [float(x) for x in ws] for f, ws in data["weights"].items()}  # type: ignore[attr-defined]
    if len(bias) != len(classes) or any(len(w) != len(classes) for w in raw.values()):
        raise ValueError("classifier weights do not match its classes")
    weights = {f: tuple((k, w) for k, w in enumerate(ws) if w) for f, ws in raw.items()}
    return LinearModel(classes, bias, {f: pairs for f, pairs in weights.items() if pairs})


@cache
def models() -> dict[str, LinearModel]:
    """The shipped models by task (``classification``, ``topic``), loaded once."""
    text = resources.files("normalizer").joinpath("data", MODEL_FILE).read_text(encoding="utf-8")
    data = json.loads(text)
    return {task: from_dict(d) for task, d in data["models"].items()}
