"""Pengaduan / Aspirasi / Permintaan Informasi from cues as people actually write them.

The decision is the linear model's (``linear.py``), which sees these cue scores as features
next to words and character n-grams; ``rule_classify`` is the rules alone (kept for comparison).

Cues are matched on expanded words (``gmn`` → bagaimana, ``tdk``/``gk`` → tidak), so chat
spellings, missing punctuation and letter floods do not matter. Each class sums the weights
of its cues; a question or a suggestion must outweigh the complaint cues to win, because a
complaint that asks "kapan diperbaiki?" is still a complaint. Default: complaint.
"""

from __future__ import annotations

import re
from itertools import compress

from normalizer import linear
from normalizer.models import Classification
from normalizer.text import expand, place_tokens, words

# (phrase, weight); phrases are matched on whole words after slang expansion
_INFO = [
    ("bagaimana cara", 3), ("bagaimana caranya", 3), ("cara", 1), ("caranya", 2), ("mau tanya", 3),
    ("ingin tanya", 3), ("ingin bertanya", 3), ("mau bertanya", 3), ("izin tanya", 3), ("ijin tanya", 3),
    ("numpang tanya", 3), ("tanya", 2), ("bertanya", 2), ("mohon informasi", 3), ("minta informasi", 3),
    ("informasi", 1), ("apakah", 2), ("syarat", 2), ("syaratnya", 2), ("persyaratan", 2), ("prosedur", 2),
    ("berapa lama", 2), ("berapa biaya", 2), ("berapa", 1), ("dimana", 1), ("di mana", 1), ("kapan", 1),
    ("bagaimana", 1), ("mohon penjelasan", 3), ("minta penjelasan", 3), ("penjelasan", 1),
    ("mohon pencerahan", 3), ("pencerahan", 2), ("jadwal", 1), ("alamat kantor", 2), ("nomor pengaduan", 2),
    ("apa saja", 2), ("siapa yang", 1), ("boleh tahu", 3), ("bisa dijelaskan", 3), ("link pendaftaran", 2),
    ("cek status", 2), ("status laporan", 2), ("cara daftar", 3), ("cara mengurus", 3), ("ingin tahu", 3),
    ("mau tahu", 3), ("kumaha", 2), ("kumaha carana", 3), ("naroskeun", 3), ("piye", 2), ("pripun", 2),
    ("nyuwun pirsa", 3), ("how", 1), ("how to", 3),
    ("dibuka kapan", 2), ("kapan dibuka", 2), ("kapan pendaftaran", 2), ("apa benar", 2),
]
_ASPIRATION = [
    ("usul", 3), ("usulan", 3), ("mengusulkan", 3), ("usulkan", 3), ("saran", 3), ("menyarankan", 3),
    ("sarankan", 3), ("aspirasi", 3), ("sebaiknya", 2), ("alangkah baiknya", 3), ("akan lebih baik", 3),
    ("lebih baik jika", 2), ("berharap ada", 2), ("harap dibangun", 3), ("mohon dibangun", 3),
    ("mohon dibuatkan", 3), ("tolong dibuatkan", 3), ("dibangun", 1), ("diadakan", 2), ("mohon diadakan", 3),
    ("perlu dibangun", 3), ("perlu diadakan", 3), ("perlu ditambah", 3), ("mohon ditambah", 2),
    ("ditambah", 1), ("penambahan", 2), ("pembangunan", 1), ("semoga ada", 2), ("harapan kami", 2),
    ("kami berharap", 1), ("agar dibuat", 3), ("agar diadakan", 3), ("kiranya", 1), ("masukan", 2),
    ("ide", 2), ("program baru", 2), ("mendukung", 1), ("dukung", 1), ("apresiasi", 2), ("terima kasih", 1),
    ("semoga", 1), ("respon cepat", 2), ("diperluas", 2), ("perluas", 2),
    ("dipertahankan", 2), ("pertahankan", 2), ("ditingkatkan", 2), ("supaya", 1),
    ("semoga kedepan", 2), ("ke depan", 1), ("kedepannya", 2), ("ke depannya", 2),
]
_COMPLAINT = [
    ("rusak", 2), ("tidak", 1), ("belum", 1), ("kecewa", 2), ("parah", 2), ("mati", 1), ("macet", 1),
    ("lambat", 2), ("lama", 1), ("dipersulit", 3), ("pungli", 3), ("diminta bayar", 3), ("dimintai", 2),
    ("menumpuk", 2), ("bau", 1), ("banjir", 1), ("tolong", 1), ("keluhkan", 3), ("mengeluh", 3),
    ("keluhan", 2), ("tidak cair", 3), ("tidak dapat", 2), ("ditolak", 2), ("tidak ada", 1), ("sudah lama", 2),
    ("berbulan", 2), ("bertahun", 2), ("hancur", 2), ("berlubang", 2), ("padam", 2), ("laporkan", 2),
    ("melaporkan", 2), ("mengadukan", 3), ("adukan", 3), ("pengaduan", 1), ("kenapa", 1), ("sampai sekarang", 2),
    ("tidak ditanggapi", 3), ("tidak jelas", 2), ("oknum", 2), ("calo", 2), ("menipu", 2), ("penipuan", 2),
    ("tidak becus", 3), ("terlantar", 2), ("bocor", 2), ("keruh", 2), ("kotor", 1), ("mahal", 1),
    ("tidak sesuai", 2), ("tidak diperbaiki", 3), ("tidak diangkut", 3), ("merugikan", 2), ("resah", 2),
    ("meresahkan", 2), ("sangat", 1), ("mohon ditindak", 3), ("ditindak", 2), ("ditertibkan", 2),
    ("segera", 1), ("perbaiki", 1), ("diperbaiki", 1), ("mohon tindak lanjut", 2), ("tidak pernah", 2),
]


def _compile(cues: list[tuple[str, int]]) -> dict[str, list[tuple[tuple[str, ...], int]]]:
    index: dict[str, list[tuple[tuple[str, ...], int]]] = {}
    for phrase, weight in cues:
        toks = tuple(words(phrase))
        index.setdefault(toks[0], []).append((toks, weight))
    return index


# one index for the three classes, so a message is scanned once: first word -> (class, phrase, weight)
_INDEX: dict[str, list[tuple[str, tuple[str, ...], int]]] = {}
for _cls, _cues in (("information_request", _INFO), ("aspiration", _ASPIRATION), ("complaint", _COMPLAINT)):
    for _first, _entries in _compile(_cues).items():
        _INDEX.setdefault(_first, []).extend((_cls, p, w) for p, w in _entries)
_QUESTION = re.compile(r"\?\s*$|\?\s")


# the same cues by first word for ``scores``: (its one-word cues, its longer cues by their second word),
# each with its ``seen`` key made once
_Cue = tuple[tuple[str, tuple[str, ...]], str, tuple[str, ...], int]  # (key, class, phrase, weight)
_BY_FIRST: dict[str, tuple[tuple[_Cue, ...], dict[str, list[_Cue]]]] = {}
for _word, _cues_of_word in _INDEX.items():
    _BY_FIRST[_word] = (tuple(((c, p), c, p, w) for c, p, w in _cues_of_word if len(p) == 1), {})
    for _c, _p, _w in _cues_of_word:
        if len(_p) > 1:
            _BY_FIRST[_word][1].setdefault(_p[1], []).append(((_c, _p), _c, _p, _w))


def scores(text: str, toks: list[str] | None = None) -> dict[str, int]:
    """Each class's summed cue weights; a cue counts once however often it occurs."""
    if toks is None:
        toks = words(text)
    out = {"information_request": 0, "aspiration": 0, "complaint": 0}
    seen: set[tuple[str, tuple[str, ...]]] = set()
    index = _BY_FIRST
    last = len(toks) - 1
    for i in compress(range(len(toks)), map(index.__contains__, toks)):  # most words begin no cue
        singles, longer = index[toks[i]]
        for key, cls, _, weight in singles:
            if key not in seen:
                seen.add(key)
                out[cls] += weight
        if longer and i < last:
            for key, cls, phrase, weight in longer.get(toks[i + 1], ()):
                if key not in seen and tuple(toks[i:i + len(phrase)]) == phrase:
                    seen.add(key)
                    out[cls] += weight
    if _QUESTION.search(text):
        out["information_request"] += 1
    return out


def message_features(text: str, toks: list[str] | None = None) -> list[str]:
    """What the linear model sees of ``text`` (``toks``: ``words(text)`` if known): words, n-grams, rule scores."""
    if toks is None:
        toks = expand([t for t in place_tokens(text) if t != ","])
    return sorted(feature_set(text, toks))


def feature_set(text: str, toks: list[str]) -> set[str]:
    """``message_features`` unsorted, ``toks`` given (``linear.JointModel.known`` sorts what it keeps)."""
    return linear.feature_set(toks, text, rule_cues(text, toks))


def rule_cues(text: str, toks: list[str]) -> list[str]:
    """The rule scores as the linear model sees them (``ri:3``, ``ra:0``, ``rc:6``)."""
    return [f"r{cls[0]}:{min(v, 6)}" for cls, v in scores(text, toks).items()]


def classify(text: str, toks: list[str] | None = None, feats: list[str] | None = None) -> Classification:
    """The model's class for ``text``; ``feats``: ``message_features(text, toks)`` if already computed."""
    model = linear.models()["classification"]
    scores_ = dict(zip(model.classes, model.scores(feats if feats is not None else message_features(text, toks)),
                       strict=True))
    return decide(scores_)


COMPLAINT_MARGIN = 1.0  # a question or suggestion must beat the complaint score by this much


def decide(class_scores: dict[str, float]) -> Classification:
    """Complaint unless another class wins by ``COMPLAINT_MARGIN``: a complaint that asks
    "kapan diperbaiki?" stays a complaint, and a missed complaint costs more than a missed question."""
    comp = class_scores.get("complaint", 0.0)
    best: Classification = "complaint"
    others: tuple[Classification, ...] = ("information_request", "aspiration")
    for cls in others:
        value = class_scores.get(cls, float("-inf"))
        if value - comp >= COMPLAINT_MARGIN and value > class_scores.get(best, float("-inf")):
            best = cls
    return best


def decide_exact(class_units: dict[str, int], scale: int) -> Classification | None:
    """``decide`` over exact scores in 1/``scale`` units (``linear.JointModel.int_scores``); None when two
    scores are tied or exactly ``COMPLAINT_MARGIN`` apart, where only the float sums can tell."""
    margin = round(COMPLAINT_MARGIN * scale)
    values = list(class_units.values())
    if len(set(values)) < len(values) or not set(values).isdisjoint([v + margin for v in values]):
        return None
    return decide({c: v / scale for c, v in class_units.items()})


def rule_classify(text: str, toks: list[str] | None = None) -> Classification:
    """complaint unless a question or a suggestion clearly dominates. ``toks``: ``words(text)`` if known."""
    s = scores(text, toks)
    info, asp, comp = s["information_request"], s["aspiration"], s["complaint"]
    if info >= 2 and info > comp and info >= asp:
        return "information_request"
    if asp >= 2 and asp >= comp:
        return "aspiration"
    return "complaint"
