"""Export py3langid's naive-Bayes model, restricted to the languages LAPOR! citizens write in,
into ``normalizer/data/langid-8.bin`` (read by ``normalizer.language`` without numpy).

    .venv/bin/python scripts/export_langid_model.py      # needs the test extra (py3langid, numpy)

py3langid scores a text by walking a byte DFA (an Aho-Corasick automaton over the feature byte
n-grams) that emits, at each byte, the LONGEST feature ending there (one output per state), then
``log1p(count) @ log P(feature | language) + log P(language)``. This script recovers each
feature's bytes from the DFA (a state's label is the shortest byte path reaching it; a
feature's bytes are the common suffix of the labels of the states that emit it), checks that
every state emits exactly the longest feature that is a suffix of its label (so "longest
feature ending at each byte" reproduces the DFA), and rebuilds that automaton in a form cheap
for pure Python: py3langid's dense table (states x 256) would be 100 MB, a dict of features
13 MB per process; a double array is 4 flat arrays of ~105,000 slots (~1.5 MB).

The automaton: a trie of the features whose node for label ``L`` sits at slot ``s``; the root
(slot 0) has a child for every byte. ``base[s] + byte`` is the slot of the child, which is
valid when ``check`` there equals ``byte`` (the byte of the edge into a slot, 0xFFFF on a free
one; bases are distinct per node with children, so slot and byte name the parent). A node
without children carries the base and ``fail`` of the first node with children on its failure
chain (what it would fall back to anyway), so reading a byte costs one look-up unless the trie
has no such child: then ``fail[s]`` (the slot of the longest proper suffix of ``L`` in the
trie) is tried. ``emit[s]`` is the id of the longest feature that is a suffix of ``L``, -1 when
there is none; the id locates the feature's weight row (``feature_ids``).

File layout, zlib-compressed:

    b"LANGID8-DA\\n" + JSON header {"source", "classes", "priors", "slots", "rows", "row_shift"} + "\\n"
    then little-endian arrays base (int32), check (uint16), fail, emit (int32) of ``slots`` items
    each, and the weight rows (``rows`` x 8 little-endian float32 log-probabilities, ``classes``
    order; each distinct row once, a few of them twice or more: ``feature_ids``).

The model stores its weights as float16, so float32 holds them exactly.
"""

from __future__ import annotations

import collections
import json
import sys
import zlib
from array import array
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path

import numpy as np
from py3langid.langid import MODEL_FILE, LanguageIdentifier

LANGS = ["id", "en", "jv", "ms", "ace", "nl", "ar", "zh"]
OUT = Path(__file__).resolve().parents[1] / "normalizer" / "data" / "langid-8.bin"
MAGIC = b"LANGID8-DA"
ARRAYS = {"base": "i", "check": "H", "fail": "i", "emit": "i"}  # file order, array typecodes
ROW_SHIFT = 10  # feature id = byte offset of its weight row << ROW_SHIFT | rank on that row (feature_ids)
NO_EDGE = 0xFFFF  # check of a free slot: never a byte


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


def build_automaton(grams: Iterable[bytes]) -> tuple[dict[str, array], dict[bytes, int]]:
    """The double-array automaton (module docstring) over the feature n-grams, and each
    feature's slot (what ``emit`` holds until ``feature_ids`` numbers them)."""
    grams = set(grams)
    children: list[dict[int, int]] = [{}]  # trie node -> byte -> node
    label = [b""]
    for gram in sorted(grams):
        node = 0
        for i, byte in enumerate(gram):
            child = children[node].get(byte)
            if child is None:
                child = len(children)
                children.append({})
                label.append(gram[:i + 1])
                children[node][byte] = child
            node = child
    for byte in range(256):  # the root reads every byte: a missing one leads to a leaf that falls back to it
        if byte not in children[0]:
            children[0][byte] = len(children)
            children.append({})
            label.append(bytes([byte]))
    bfs, queue = [], collections.deque([0])
    while queue:
        node = queue.popleft()
        bfs.append(node)
        queue.extend(children[node].values())
    fail = [0] * len(children)
    for node in bfs:
        for byte, child in children[node].items():
            f = fail[node]
            while node and byte not in children[f] and f:
                f = fail[f]
            fail[child] = children[f].get(byte, 0) if node else 0
    # slots: first fit, each node with children at a base of its own (slot - byte names the parent)
    slot, base_of = [0] * len(children), [0] * len(children)
    used, bases, low = bytearray(1 << 20), set(), 1
    used[0] = 1
    for node in bfs:
        if not children[node]:
            continue
        keys = sorted(children[node])
        p = max(low, keys[0] + 1)
        while True:
            p = used.find(0, p)
            b0 = p - keys[0]
            if b0 not in bases and not any(used[b0 + k] for k in keys):
                break
            p += 1
        bases.add(b0)
        base_of[node] = b0
        for k in keys:
            used[b0 + k] = 1
            slot[children[node][k]] = b0 + k
        low = used.find(0, low)
    size = max(slot) + 257  # base + any byte stays inside

    def fallback(node: int) -> int:  # first node with children on the failure chain (the root has all)
        while not children[node]:
            node = fail[node]
        return node

    emit = [-1] * len(children)
    for node in bfs[1:]:
        emit[node] = node if label[node] in grams else emit[fail[node]]
    free = {"check": NO_EDGE, "emit": -1}
    out = {name: array(code, [free.get(name, 0)]) * size for name, code in ARRAYS.items()}
    for node in range(len(children)):
        s, g = slot[node], fallback(node)
        out["base"][s] = base_of[g]
        out["fail"][s] = slot[fail[g]]
        if node:
            out["check"][s] = label[node][-1]
        out["emit"][s] = slot[emit[node]] if emit[node] >= 0 else -1
    return out, {label[node]: slot[node] for node in range(len(children)) if label[node] in grams}


def feature_ids(slots: dict[bytes, int], rows: dict[bytes, bytes]) -> tuple[dict[int, int], bytes]:
    """Each feature's id (by its slot) and the table of weight rows the ids point into.

    An id is the byte offset of the feature's row ``<< ROW_SHIFT``, plus its rank among the
    features sharing that row: distinct per feature (py3langid counts features, not rows) and
    the row found with one shift. A row shared by more than ``1 << ROW_SHIFT`` features is
    stored again for the next ones (46 copies of 32 bytes for the 47,016 features of the most
    common row), cheaper than an array of row offsets over all slots."""
    table = bytearray()
    placed: dict[bytes, tuple[int, int]] = {}  # row -> offset of its newest copy, features on it
    ids = {}
    for gram, s in sorted(slots.items(), key=lambda item: item[1]):
        row = rows[gram]
        offset, used = placed.get(row, (0, 1 << ROW_SHIFT))
        if used == 1 << ROW_SHIFT:
            offset, used = len(table), 0
            table += row
        ids[s] = offset << ROW_SHIFT | used
        placed[row] = (offset, used + 1)
    assert max(ids.values()) < 1 << 31, "ids must fit the int32 emit array"
    return ids, bytes(table)


def check_automaton(automaton: dict[str, array], slots: dict[bytes, int], labels: list[bytes],
                    output: list[int], features: dict[int, bytes]) -> None:
    """Read every py3langid DFA state's label: ours emits the same feature at its last byte."""
    base, check, fail, emit = (automaton[name] for name in ("base", "check", "fail", "emit"))
    for label, f in zip(labels, output, strict=True):
        s = 0
        for byte in label:
            while check[base[s] + byte] != byte:
                s = fail[s]
            s = base[s] + byte
        assert emit[s] == (slots[features[f]] if f >= 0 else -1), f"state {label!r}"


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
    rows = {gram: ptc[f].tobytes() for f, gram in features.items()}
    automaton, slots = build_automaton(rows)
    check_automaton(automaton, slots, labels, ident.tk_output, features)
    ids, table = feature_ids(slots, rows)
    emit = automaton["emit"]
    for s, f in enumerate(emit):
        if f >= 0:
            emit[s] = ids[f]
    assert sys.byteorder == "little" and all(array(code).itemsize == {"i": 4, "H": 2}[code] for code in ARRAYS.values())
    header = {"source": f"py3langid {metadata.version('py3langid')} {MODEL_FILE}",
              "classes": classes, "priors": [float(p) for p in ident.nb_pc],
              "slots": len(automaton["base"]), "rows": len(table) // (4 * len(classes)), "row_shift": ROW_SHIFT}
    body = b"".join(automaton[name].tobytes() for name in ARRAYS) + table
    OUT.write_bytes(zlib.compress(MAGIC + b"\n" + json.dumps(header).encode() + b"\n" + body, 9))
    print(f"{OUT}: {len(features)} features, {header['rows']} rows, {header['slots']} slots, "
          f"classes {classes}, {OUT.stat().st_size} bytes")


if __name__ == "__main__":
    main()
