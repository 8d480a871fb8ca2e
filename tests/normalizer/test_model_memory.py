"""The in-process models are loaded compactly (shared objects for equal values) and hold exactly
what a plain load of their files gives: the same features, the same float bits, the same order."""

from __future__ import annotations

import json
from collections import Counter
from importlib import resources

from normalizer import language, linear


def _plain_linear() -> dict[str, linear.LinearModel]:
    """The models as a straightforward load builds them (one float, pair and tuple per weight)."""
    data = json.loads(resources.files("normalizer").joinpath("data", linear.MODEL_FILE).read_text("utf-8"))
    out = {}
    for task, d in data["models"].items():
        weights = {f: tuple((k, float(w)) for k, w in enumerate(ws) if float(w)) for f, ws in d["weights"].items()}
        out[task] = linear.LinearModel(tuple(d["classes"]), tuple(float(b) for b in d["bias"]),
                                       {f: pairs for f, pairs in weights.items() if pairs})
    return out


def _bits(model: linear.LinearModel) -> list[object]:
    return [model.classes, [b.hex() for b in model.bias],
            [(f, [(k, w.hex()) for k, w in pairs]) for f, pairs in model.weights.items()]]


def test_the_linear_models_are_bit_for_bit_a_plain_load() -> None:
    plain, loaded = _plain_linear(), linear.models()
    assert list(loaded) == list(plain) == ["classification", "topic"]
    for task, model in loaded.items():
        assert _bits(model) == _bits(plain[task])
        assert all(type(w) is float for pairs in model.weights.values() for _, w in pairs)


def test_equal_weights_and_rows_are_one_object() -> None:
    for model in linear.models().values():
        rows = list(model.weights.values())
        assert len({id(r) for r in rows}) == len(set(rows)) < len(rows) * 0.7
        pairs = [p for r in rows for p in r]
        assert len({id(p) for p in pairs}) == len(set(pairs)) < len(pairs) / 3
    joint = linear.joint()
    assert joint is not None
    packed = list(joint._rows.values())
    assert len({id(r) for r in packed}) == len(set(packed)) < len(packed) / 2


def test_a_model_from_a_dict_scores_as_the_plain_sums() -> None:
    model = linear.from_dict({"classes": ["a", "b", "c"], "bias": [0.1, 0, -0.2],
                              "weights": {"x": [0.1, 0, 0.2], "y": [0.1, 0.2, 0], "z": [0, 0, 0], "w": [1e-17, 0, 3]}})
    assert model.weights == {"x": ((0, 0.1), (2, 0.2)), "y": ((0, 0.1), (1, 0.2)), "w": ((0, 1e-17), (2, 3.0))}
    assert model.weights["x"][0] is model.weights["y"][0]  # shared: equal class and weight
    assert model.scores(["w", "x", "y", "q"]) == [0.1 + 1e-17 + 0.1 + 0.1, 0.0 + 0.2, -0.2 + 3.0 + 0.2]


def test_the_language_model_is_flat_tables_of_distinct_rows() -> None:
    """No object per feature: four flat arrays (one slot per trie node; the check holds a byte)
    and one bytes table of weight rows: 100,053 features share 36,109 distinct rows, each stored
    once per 1,024 features pointing to it (a feature id is its row's offset << 10 | a rank)."""
    model = language._model
    tables = [model._base, model._check, model._fail, model._emit]
    assert [(t.typecode, len(t)) for t in tables] == [("i", len(model._base)), ("H", len(model._base))] + \
        [("i", len(model._base))] * 2
    assert type(model._rows) is bytes and model._row_shift == 10
    ids = set(model._emit) - {-1}
    size = model._row_size
    starts = Counter(f >> model._row_shift for f in ids)
    assert sorted(starts) == list(range(0, len(model._rows), size))
    assert len(ids) == 100_053 and max(starts.values()) == 1 << model._row_shift
    copies = Counter(model._rows[i:i + size] for i in starts)
    assert len(copies) == 36_109 and sum(copies.values()) == len(starts) < len(copies) + 50
