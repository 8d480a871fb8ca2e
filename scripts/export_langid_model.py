"""Export py3langid's naive-Bayes model, restricted to the languages LAPOR! citizens write in,
into ``normalizer/data/langid-8.bin`` (read by ``normalizer.language`` without numpy).

    .venv/bin/python scripts/export_langid_model.py      # needs the test extra (py3langid, numpy)

py3langid scores a text by walking a byte DFA (an Aho-Corasick automaton over the feature byte
n-grams) that emits, at each byte, the LONGEST feature ending there (one output per state), then
``log1p(count) @ log P(feature | language) + log P(language)``. This script recovers each
feature's bytes from the DFA (a state's label is the shortest byte path reaching it; a
feature's bytes are the common suffix of the labels of the states that emit it), checks that
every state emits exactly the longest feature that is a suffix of its label (so "longest
feature ending at each byte" reproduces the DFA), and writes, zlib-compressed:

    b"LANGID8\\n" + JSON header line {"source", "classes", "priors", "lengths"} + "\\n"
    then per feature length n (ascending): count*n bytes of features, count*32 bytes of
    weights (8 little-endian float32 log-probabilities per feature, in ``classes`` order).

The model stores its weights as float16, so float32 holds them exactly.
"""

from __future__ import annotations

import collections
import json
import zlib
from importlib import metadata
from pathlib import Path

import numpy as np
from py3langid.langid import MODEL_FILE, LanguageIdentifier

LANGS = ["id", "en", "jv", "ms", "ace", "nl", "ar", "zh"]
OUT = Path(__file__).resolve().parents[1] / "normalizer" / "data" / "langid-8.bin"


def state_labels(nextmove, rowbase) -> list[bytes]:
    """Shortest byte string reaching each DFA state (breadth first from the start state)."""
    labels: dict[int, bytes] = {0: b""}
    queue = collections.deque([0])
    while queue:
        s = queue.popleft()
        base = rowbase[s]
        for byte in range(256):
            t = nextmove[base + byte]
            if t not in labels:
                labels[t] = labels[s] + bytes([byte])
                queue.append(t)
    return [labels[s] for s in range(len(labels))]


def feature_bytes(labels: list[bytes], output: list[int]) -> dict[int, bytes]:
    emitted: dict[int, bytes] = {}
    for label, f in zip(labels, output, strict=True):
        if f < 0:
            continue
        common = emitted.get(f, label)
        while not label.endswith(common):
            common = common[1:]
        emitted[f] = common
    return emitted


def check_longest_suffix(labels: list[bytes], output: list[int], features: dict[int, bytes]) -> None:
    index = {b: f for f, b in features.items()}
    assert len(index) == len(features), "two features with the same bytes"
    for label, f in zip(labels, output, strict=True):
        longest = next((index[label[i:]] for i in range(len(label)) if label[i:] in index), -1)
        assert longest == f, f"state {label!r} emits {f}, the longest feature suffix is {longest}"


def main() -> None:
    ident = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    labels = state_labels(ident.tk_nextmove, ident._rowbase)
    assert len(labels) == len(ident.tk_output), "unreachable DFA states"
    features = feature_bytes(labels, ident.tk_output)
    assert len(features) == ident.nb_ptc.shape[0]
    check_longest_suffix(labels, ident.tk_output, features)
    ident.set_languages(LANGS)
    classes = list(ident.nb_classes)
    ptc = np.asarray(ident.nb_ptc, dtype="<f4")  # float16 in the model: exact in float32
    by_length: dict[int, list[int]] = collections.defaultdict(list)
    for f in sorted(features, key=features.__getitem__):
        by_length[len(features[f])].append(f)
    body = bytearray()
    for n in sorted(by_length):
        fs = by_length[n]
        body += b"".join(features[f] for f in fs)
        body += ptc[fs].tobytes()
    header = {"source": f"py3langid {metadata.version('py3langid')} {MODEL_FILE}",
              "classes": classes, "priors": [float(p) for p in ident.nb_pc],
              "lengths": {str(n): len(fs) for n, fs in sorted(by_length.items())}}
    raw = b"LANGID8\n" + json.dumps(header).encode() + b"\n" + bytes(body)
    OUT.write_bytes(zlib.compress(raw, 9))
    print(f"{OUT}: {len(features)} features, classes {classes}, {OUT.stat().st_size} bytes")


if __name__ == "__main__":
    main()
