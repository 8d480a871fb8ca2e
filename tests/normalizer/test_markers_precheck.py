"""The markers' literal pre-checks only skip searches that could not match: ``extract`` gives the
same result with them as with every sentence search run (on the labelled sets and on generated
text with the characters re.I folds differently from str.lower)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from normalizer import markers

DATA = Path(__file__).resolve().parents[1] / "data"
WORDS = ["nama", "saya", "identitas", "mohon", "dirahasiakan", "DIRAHASİAKAN", "diraha\u017fiakan", "jangan",
         "sebut", "ſebut", "tidak", "usah", "publikasi", "publi\u017fh", "di\u017febarkan", "anonim", "ANONİM",
         "anonım", "ingin", "lapor", "secara", "tolong", "laporan", "ini", "data", "diri", "kami", "#rahasia",
         "cantumkan", "tampilkan", "\u212aami", ".", ","]


def _texts() -> list[str]:
    out = []
    for name in ("devset.jsonl", "blindset.jsonl", "maskset.jsonl", "trainset.jsonl"):
        for line in (DATA / name).read_text(encoding="utf-8").splitlines():
            if line.strip():
                out.append(json.loads(line)["text"])
    return out


def _reference(monkeypatch: pytest.MonkeyPatch, text: str) -> markers.Markers:
    with monkeypatch.context() as m:  # "" is in every string: every sentence search runs
        m.setattr(markers, "_ANON_NEEDLES", ("",))
        m.setattr(markers, "_CONF_NEEDLES", ("",))
        return markers.extract(text)


def test_same_markers_as_without_the_prechecks_on_the_labelled_sets(monkeypatch):
    texts = _texts()
    assert len(texts) > 1000
    flagged = 0
    for t in texts:
        got = markers.extract(t)
        assert got == _reference(monkeypatch, t), t
        flagged += got.anonymous or got.confidential
    assert flagged > 0  # the sets do exercise the sentence patterns


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(WORDS), min_size=1, max_size=12), st.sampled_from([" ", "  ", "\n", " \t"]))
def test_same_markers_on_generated_sentences(words, sep):
    text = sep.join(words)
    with pytest.MonkeyPatch.context() as mp:
        assert markers.extract(text) == _reference(mp, text)
