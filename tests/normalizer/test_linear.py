"""The shipped linear model loads, predicts deterministically, and reads other people's wording."""

from __future__ import annotations

import importlib.util
import json
from importlib import resources
from pathlib import Path

import pytest

from normalizer import classify, linear, topics
from normalizer.normalize import normalize
from tests.normalizer.helpers import msg

ROOT = Path(__file__).resolve().parents[2]


def test_model_file_loads_with_both_tasks():
    models = linear.models()
    assert set(models) == {"classification", "topic"}
    assert models["classification"].classes == ("complaint", "aspiration", "information_request")
    assert "_none" in models["topic"].classes and "roads" in models["topic"].classes
    assert len(models["classification"].weights) > 500


def test_prediction_is_deterministic_and_matches_a_fresh_load():
    text = "kenapa tidak dibangun taman bermain saja di lahan kosong itu, biar anak anak tidak main di jalan"
    feats = classify.message_features(text)
    first = [classify.classify(text) for _ in range(3)]
    assert len(set(first)) == 1
    data = json.loads(resources.files("normalizer").joinpath("data", linear.MODEL_FILE).read_text("utf-8"))
    fresh = linear.from_dict(data["models"]["classification"])
    assert fresh.scores(feats) == linear.models()["classification"].scores(feats)
    assert linear.features(["a", "b"], "a b?") == linear.features(["a", "b"], "a b?")


@pytest.mark.parametrize(("text", "expected"), [
    ("jalan di depan pasar berlubang besar sudah setahun tidak diperbaiki, sering ada yang jatuh", "complaint"),
    ("syarat bikin SKCK apa aja", "information_request"),
    ("kapan pendaftaran sekolah negeri dibuka?", "information_request"),
    ("mohon dipertimbangkan pembangunan jembatan permanen pengganti jembatan bambu di desa kami", "aspiration"),
    ("usul agar dibuat bank sampah di setiap RW", "aspiration"),
])
def test_reads_wordings_the_rules_miss(text, expected):
    assert normalize([msg(text)]).classification == expected


def test_complaint_margin_keeps_borderline_messages_complaints():
    assert classify.decide({"complaint": 1.0, "aspiration": 1.5, "information_request": 0.0}) == "complaint"
    assert classify.decide({"complaint": 1.0, "aspiration": 2.5, "information_request": 0.0}) == "aspiration"
    assert classify.decide({"complaint": 0.0, "aspiration": 1.5, "information_request": 2.0}) == \
        "information_request"


def test_model_topic_is_put_first_only_when_the_rule_file_knows_it():
    rules = topics.parse_rules({"topics": [{"slug": "roads", "agency": "PU", "phrases": ["jalan rusak"]}]}, "t")
    ranked = rules.score("air pdam mati jalan rusak")
    feats = classify.message_features("air pdam mati jalan rusak")
    assert topics.refine(ranked, feats, rules) == ["roads"]  # "water" is unknown to this rule file


def test_weights_file_rejects_mismatched_shapes():
    with pytest.raises(ValueError):
        linear.from_dict({"classes": ["a", "b"], "bias": [0, 0], "weights": {"x": [1.0]}})


def test_training_is_deterministic():
    spec = importlib.util.spec_from_file_location("train_classifier", ROOT / "bench" / "train_classifier.py")
    assert spec and spec.loader
    tc = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tc)
    xs = [["w:jalan", "w:rusak"], ["w:usul", "w:taman"], ["w:kapan", "q"], ["w:rusak", "w:parah"]]
    ys = ["complaint", "aspiration", "information_request", "complaint"]
    a, b = tc.train(xs, ys, tc.CLASSES), tc.train(xs, ys, tc.CLASSES)
    assert a == b and a["weights"]
    assert tc.predict(a, ["w:usul", "w:taman"]) == "aspiration"
