"""Train the classification and topic models (normalizer/data/classifier.json) from tests/data/trainset.jsonl.

    .venv/bin/python tests/data/make_trainset.py         # rebuild the labelled training set
    .venv/bin/python bench/train_classifier.py --cv      # grouped 5-fold cross-validation (by core)
    .venv/bin/python bench/train_classifier.py --write   # train on everything, write the weights

Multinomial logistic regression by plain SGD, pure Python and deterministic (fixed seed and
order), class-balanced; features are exactly what the normalizer computes at run time
(``classify.message_features`` / ``topics.topic_features``), so training and inference cannot drift.
Only weights that matter are kept (|w| ≥ PRUNE), rounded, so the file stays small.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from normalizer import classify, markers, topics  # noqa: E402
from normalizer.text import expand, place_tokens, tidy  # noqa: E402

TRAINSET = ROOT / "tests" / "data" / "trainset.jsonl"
DEVSET = ROOT / "tests" / "data" / "devset.jsonl"  # its `dev` split (the rules' tuning pool) is trained on too
OUT = ROOT / "normalizer" / "data" / "classifier.json"
SEED = 1708
EPOCHS = 15
LR = 0.2
L2 = 1e-4
PRUNE = 0.02
CLASSES = ["complaint", "aspiration", "information_request"]


def load(path: Path = TRAINSET) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def load_dev_split() -> list[dict[str, Any]]:
    """devset.jsonl's `dev` rows (its `heldout`/`blind` rows stay out: they measure the result)."""
    return [r for r in load(DEVSET) if r["split"] == "dev"]


def featurize(text: str) -> tuple[list[str], list[str]]:
    """(classification features, topic features) of ``text`` as ``normalize`` computes them."""
    body = markers.extract(tidy(text)).body
    wds = expand([t for t in place_tokens(body) if t != ","])
    feats = classify.message_features(body, wds)
    return feats, topics.topic_features(feats, topics.active().score(body, wds))


def train(xs: list[list[str]], ys: list[str], classes: list[str]) -> dict[str, Any]:
    rng = random.Random(SEED)
    k = len(classes)
    idx = {c: i for i, c in enumerate(classes)}
    counts = Counter(ys)
    cw = {c: len(ys) / (k * counts[c]) if counts[c] else 0.0 for c in classes}
    w: dict[str, list[float]] = defaultdict(lambda: [0.0] * k)
    b = [0.0] * k
    order = list(range(len(xs)))
    for epoch in range(EPOCHS):
        rng.shuffle(order)
        lr = LR / (1 + 0.2 * epoch)
        for n in order:
            feats, y = xs[n], idx[ys[n]]
            s = list(b)
            for f in feats:
                wf = w[f]
                for j in range(k):
                    s[j] += wf[j]
            m = max(s)
            e = [math.exp(v - m) for v in s]
            z = sum(e)
            g = [(e[j] / z - (1.0 if j == y else 0.0)) * cw[ys[n]] for j in range(k)]
            for j in range(k):
                b[j] -= lr * g[j]
            for f in feats:
                wf = w[f]
                for j in range(k):
                    wf[j] -= lr * (g[j] + L2 * wf[j])
    # small weights are dropped one by one (the file and the per-message work stay small)
    weights = {f: [round(v, 3) if abs(v) >= PRUNE else 0 for v in ws] for f, ws in sorted(w.items())
               if max(abs(v) for v in ws) >= PRUNE}
    return {"classes": classes, "bias": [round(v, 4) for v in b], "weights": weights}


def _scores(model: dict[str, Any], feats: list[str]) -> list[float]:
    s = list(model["bias"])
    for f in feats:
        ws = model["weights"].get(f)
        if ws:
            for j in range(len(s)):
                s[j] += ws[j]
    return s


def predict(model: dict[str, Any], feats: list[str]) -> str:
    s = _scores(model, feats)
    if model["classes"] == CLASSES:  # the run-time decision rule, complaint margin included
        return classify.decide(dict(zip(CLASSES, s, strict=True)))
    return model["classes"][max(range(len(s)), key=lambda j: (s[j], -j))]


def topic_label(row: dict[str, Any]) -> str:
    return row["topic"] or "_none"


def topic_classes(rows: list[dict[str, Any]]) -> list[str]:
    return sorted({topic_label(r) for r in rows})


def cross_validate(rows: list[dict[str, Any]], always: list[dict[str, Any]], folds: int = 5) -> dict[str, Any]:
    """Grouped k-fold over ``rows``: all variants of one hand-written core fall in the same fold;
    ``always`` rows are in every training part and never tested."""
    feats = [featurize(r["text"]) for r in rows]
    extra = [featurize(r["text"]) for r in always]
    per_class: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    topic_ok = topic_n = 0
    tclasses = topic_classes(rows)
    for fold in range(folds):
        tr = [i for i, r in enumerate(rows) if r["core"] % folds != fold]
        te = [i for i, r in enumerate(rows) if r["core"] % folds == fold]
        cm = train([feats[i][0] for i in tr] + [f[0] for f in extra],
                   [rows[i]["classification"] for i in tr] + [r["classification"] for r in always], CLASSES)
        tm = train([feats[i][1] for i in tr] + [f[1] for f in extra],
                   [topic_label(rows[i]) for i in tr] + [topic_label(r) for r in always], tclasses)
        for i in te:
            gold = rows[i]["classification"]
            per_class[gold][1] += 1
            per_class[gold][0] += predict(cm, feats[i][0]) == gold
            if rows[i]["topic"] is not None:
                topic_n += 1
                topic_ok += predict(tm, feats[i][1]) == rows[i]["topic"]
    total_ok = sum(v[0] for v in per_class.values())
    total = sum(v[1] for v in per_class.values())
    return {"n": total, "classification": total_ok / total,
            "per_class": {c: (v[0] / v[1], v[1]) for c, v in per_class.items()},
            "topic": topic_ok / topic_n if topic_n else 1.0, "topic_n": topic_n}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cv", action="store_true")
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args()
    rows, always = load(), load_dev_split()
    if args.cv:
        print(json.dumps(cross_validate(rows, always), indent=1))
    if args.write:
        rows = rows + always
        feats = [featurize(r["text"]) for r in rows]
        data = {"version": 1, "trained_on": f"{TRAINSET.relative_to(ROOT)} + {DEVSET.relative_to(ROOT)} split dev"
                                            f" ({len(rows)} rows)", "models": {
            "classification": train([f[0] for f in feats], [r["classification"] for r in rows], CLASSES),
            "topic": train([f[1] for f in feats], [topic_label(r) for r in rows], topic_classes(rows)),
        }}
        OUT.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=True) + "\n",
                       encoding="utf-8")
        sizes = {k: len(v["weights"]) for k, v in data["models"].items()}
        print(f"wrote {OUT} ({OUT.stat().st_size // 1024} KiB, weights {sizes})")


if __name__ == "__main__":
    main()
