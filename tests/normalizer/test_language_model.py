"""The pure-Python language model (normalizer/data/langid-8.bin) answers exactly as py3langid
(the test extra) restricted to the same languages, on a few thousand texts: the repo's labelled
sets, the benchmark complaints, every channel fixture, samples in each language, and variants
of them (all caps, halves, words reversed)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from py3langid.langid import MODEL_FILE, LanguageIdentifier

from bench.complaints import complaint_text
from normalizer import language

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = [
    "The streetlights on our road have been broken for two months and nobody has come to fix them.",
    "Please help, my mother has not received her social assistance since June although she is registered.",
    "I would like to report that the public hospital asked for an unofficial fee before treating my son.",
    "Dalan ing desaku rusak banget wis telung sasi, akeh pengendara motor sing tiba. Tulung didandani.",
    "Kulo badhe lapor, bantuan sosial kanggo ibu kulo durung cair, panjenengan saged mbantu nggih.",
    "Lampu dalan mati wis suwe, desane dadi peteng lan akeh maling. Mboten wonten tanggapan saking desa.",
    "Saya ingin membuat aduan mengenai jalan raya yang rosak teruk di kampung kami sejak bulan lepas.",
    "Kerajaan tempatan tidak mengambil tindakan walaupun penduduk sudah membuat aduan berkali-kali.",
    "De straatverlichting in onze wijk is al twee maanden kapot en niemand komt het repareren.",
    "Mijn moeder heeft haar uitkering sinds juni niet ontvangen, hoewel zij wel geregistreerd staat.",
    "الطريق في قريتنا متضرر بشدة منذ ثلاثة أشهر ولم يقم أحد بإصلاحه حتى الآن",
    "أرجو المساعدة، والدتي لم تحصل على المساعدة الاجتماعية منذ شهر يونيو",
    "我们村的道路已经损坏三个月了，一直没有人来修理，请政府尽快处理。",
    "我母亲自六月以来没有收到社会援助，尽管她已经登记在册。",
    "Jalan di lembur abdi rusak pisan ti kamari, punten tiasa dibantuan, hatur nuhun.",
    "Lon meulapor jalan di gampong kamoe ka reuloh that, hana soe peugot.",
    "Bantuan sosial PKH untuk ibu saya tidak cair sejak Juni padahal terdaftar di DTKS.",
    "jalan rusak parah tolong pak", "ok", "", "12345 67890", "😡😡😡 !!!", "HELLO WORLD THIS IS LOUD",
    "Selamat pagi min, mau tanya kenapa pelayanan KTP elektronik di kecamatan lama sekali?",
]


def _corpus() -> list[str]:
    texts = list(SAMPLES)
    for path in sorted((ROOT / "tests" / "data").glob("*.jsonl")):
        texts += [json.loads(line)["text"] for line in path.read_text().splitlines() if line.strip()]
    texts += [complaint_text(i) for i in range(300)]
    for path in sorted(ROOT.glob("channels/*/fixtures/*")):
        if path.is_file() and path.suffix != ".py":
            raw = path.read_bytes().decode("utf-8", errors="replace")
            texts += [t for t in re.findall(r'"(?:text|body|message|caption)"\s*:\s*"((?:[^"\\]|\\.)*)"', raw)]
            texts += [chunk for chunk in raw.split("\n\n") if chunk.strip()][:20]
    variants = []
    for t in texts:
        variants += [t.upper(), t[: len(t) // 2], " ".join(reversed(t.split()))]
    return texts + variants


CORPUS = _corpus()


@pytest.fixture(scope="module")
def reference() -> LanguageIdentifier:
    ident = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    ident.set_languages(language._model.classes)
    return ident


def test_the_corpus_is_a_few_thousand_texts_in_several_languages(reference):
    assert len(CORPUS) >= 3000
    found = {reference.classify(t)[0] for t in CORPUS}
    assert {"id", "en", "jv", "ms", "nl", "ar", "zh"} <= found


def test_the_model_picks_the_same_language_as_py3langid(reference):
    differ = [t for t in CORPUS if language._model.classify(t) != reference.classify(t)[0]]
    assert differ == []


def test_detect_answers_as_with_py3langid(reference, monkeypatch):
    ours = [language.detect(t) for t in CORPUS]

    class Py3langid:
        def classify(self, text: str) -> str:
            return str(reference.classify(text)[0])

    monkeypatch.setattr(language, "_model", Py3langid())
    assert ours == [language.detect(t) for t in CORPUS]
    assert {"und", "id", "en", "jv", "su", "nl"} <= set(ours)  # Arabic/Chinese: too few words for detect


def test_scores_are_py3langid_raw_scores(reference):
    """Not only the winner: every language's log score agrees with py3langid's (float32) ones."""
    import numpy as np

    for text in CORPUS[:400]:
        ours = language._model.scores(text)
        theirs = reference._raw_score(reference._encode(text))
        if not any(ours):
            assert not np.any(theirs)
            continue
        assert np.allclose(ours, theirs, rtol=1e-5, atol=1e-2), text


def _trie_labels(model) -> dict[int, bytes]:
    """Every trie node's bytes, read back from the arrays alone: breadth first from the root, a
    node's children are the slots ``base + byte`` whose check is that byte, unless a shallower
    node claimed that base first (a node without children carries the base of a shorter suffix
    that has some)."""
    labels, owners, level = {0: b""}, set(), [0]
    while level:
        deeper = []
        for s in level:
            base = model._base[s]
            if base in owners:
                continue
            owners.add(base)
            for byte in range(256):
                t = base + byte
                if model._check[t] == byte:
                    labels[t] = labels[s] + bytes([byte])
                    deeper.append(t)
        level = deeper
    return labels


@pytest.fixture(scope="module")
def trie() -> dict[int, bytes]:
    return _trie_labels(language._model)


def _suffixes(label: bytes, node: dict[bytes, int]) -> list[bytes]:
    """The proper suffixes of ``label`` that are trie nodes, longest first (the root last)."""
    return [label[i:] for i in range(1, len(label) + 1) if label[i:] in node]


@pytest.fixture(scope="module")
def features(trie) -> dict[bytes, int]:
    """Feature bytes -> id: the nodes that emit something their longest proper suffix does not."""
    emit = language._model._emit
    node = {label: s for s, label in trie.items()}
    return {label: emit[s] for s, label in trie.items()
            if label and emit[s] >= 0 and emit[s] != emit[node[_suffixes(label, node)[0]]]}


def test_the_automaton_reads_any_text_as_the_longest_suffix_in_its_trie(trie, features):
    """What makes one look-up per byte (plus failure steps) land, after each byte, on the node
    of the longest suffix of the text read that is in the trie, emitting the longest feature
    ending there (each feature its own id): checked on every node."""
    model = language._model
    node = {label: s for s, label in trie.items()}
    with_children = {label[:-1] for label in node if label}
    assert len(node) == len(trie) and all(bytes([b]) in node for b in range(256))
    assert len(set(features.values())) == len(features) == 100_053
    for s, label in trie.items():
        if not label:
            continue
        reached = 0
        for byte in label:
            assert model._check[model._base[reached] + byte] == byte  # along the trie: no failure step
            reached = model._base[reached] + byte
        assert reached == s
        longest = next((t for t in [label, *_suffixes(label, node)] if t in features), None)
        assert model._emit[s] == model._emissions(label)[-1] == (features[longest] if longest is not None else -1)
        # without children of its own, a node reads on as the first node of its failure chain with some
        owner = next(t for t in [label, *_suffixes(label, node)] if t in with_children)
        assert model._base[s] == model._base[node[owner]], label
        if owner:
            assert model._fail[s] == node[_suffixes(owner, node)[0]], label


def test_the_features_and_rows_are_py3langid_s(reference, features):
    """Every feature of the automaton is one of py3langid's (its DFA emits it at the end of the
    feature's bytes and not at the end of their shorter suffix) with the same weights, once each,
    and they are as many as py3langid's."""
    model = language._model
    ptc = reference.nb_ptc.astype("<f4")
    emitted = set()
    for label, f in features.items():
        theirs = [0, 0]
        for k, text in enumerate((label, label[1:])):
            state = 0
            for byte in text:
                state = reference.tk_nextmove[reference._rowbase[state] + byte]
            theirs[k] = reference.tk_output[state] if text else -1
        assert theirs[0] >= 0 and theirs[0] != theirs[1], label
        start = f >> model._row_shift
        assert model._rows[start:start + model._row_size] == ptc[theirs[0]].tobytes(), label
        emitted.add(theirs[0])
    assert len(emitted) == ptc.shape[0] == 100_053
