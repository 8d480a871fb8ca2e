"""The normalizer's shortcuts give exactly what the plain computation gives.

Each shortcut is checked against the slow way on the golden inputs and on generated hostile
strings: patterns tried only at candidate starts (``scan.finditer_at``) against a full
``finditer``, the linear models' exact packed sums against the float scores of
``classify.classify``/``topics.refine``, and the pre-checks of ``tidy``/``fold`` against the
unconditional substitutions.
"""

from __future__ import annotations

import random
import re
import unicodedata
from collections.abc import Iterable, Iterator

import pytest

from normalizer import classify, completeness, linear, pii, reporter, scan, text, topics
from normalizer.normalize import _decide
from tests.normalizer import golden

_PIECES = ["0", "8", "12", "62", "+62", "0812", "3273", " ", "  ", "\t", "\n", ".", "-", "/", "(", ")", ":", "@",
           "a", "an", "a.n", "a n", "no", "rek", "bri", "bank ", "BCA", "Rp", "rb", "B", "AB", "kk", "nama saya ",
           "Saya ", "Budi", "budi santoso", "terima kasih, ", "Hormat saya,\n", "alamat saya ", "tinggal di ",
           "Jl. Melati ", "No. 12 ", "RT 03/RW 05", "wa ", "İ", "ı", "ſ", "\u212a", "é", "\u200b", "\x07", "aaa",
           "cair2", "pagiii", "?", "!", "2024", "12/05/2024", "jam 7.30", "#anonim", "[RAHASIA]",
           "Selamat pagi pak", "Yth. ", "Halo min! ", "bapak2 ", "ibu2", "Pagii", "_"]


def _hostile(n: int, seed: int = 17) -> list[str]:
    rnd = random.Random(seed)
    return ["".join(rnd.choice(_PIECES) for _ in range(rnd.randint(1, 40))) for _ in range(n)]


def _inputs() -> list[str]:
    return [t for _, t in golden.texts()] + _hostile(3000)


def _plain_finditer(rx: re.Pattern[str], s: str, starts: Iterable[int]) -> Iterator[re.Match[str]]:
    return rx.finditer(s)


def test_candidate_starts_find_every_match(monkeypatch: pytest.MonkeyPatch) -> None:
    texts = _inputs()
    names = [["Budi Santoso"], ["ibu Siti"], ["İbrahim"], []]
    fast = [(pii.find_pii(t), reporter.find_reporter(t, names[i % 4])) for i, t in enumerate(texts)]
    monkeypatch.setattr(scan, "finditer_at", _plain_finditer)
    slow = [(pii.find_pii(t), reporter.find_reporter(t, names[i % 4])) for i, t in enumerate(texts)]
    assert fast == slow
    assert sum(1 for spans, own in fast if spans or own) > 1000  # the inputs do hold personal data


def test_account_pattern_on_folded_text_matches_case_insensitively() -> None:
    for t in [*_inputs(), "REK BRİ 1234 5678 90", "a.n \u212aasih 0012345678", "NOREK:1234567890"]:
        plain = [(m.start(), m.end(), m.span(1)) for m in pii._ACCOUNT.finditer(t)]
        assert [(m.start(), m.end(), m.span(1)) for m in pii._ACCOUNT_FOLDED.finditer(scan.folded(t))] == plain


def test_folded_keeps_every_index_and_case_insensitive_hit() -> None:
    for t in [*_hostile(500), "İSTANBUL ſaya \u212aasih"]:
        low = scan.folded(t)
        assert len(low) == len(t)
        for word in ("saya", "kasih", "nama", "istanbul"):
            starts = set(scan.word_starts(low, [word]))
            assert {m.start() for m in re.finditer(re.escape(word), t, re.I)} <= starts


def test_date_scan_at_digit_runs_matches_a_full_search() -> None:
    for t in _inputs():
        plain = bool(completeness._DATE.search(t))
        assert any(completeness._DATE.match(t, m.start()) for m in completeness._DIGITS.finditer(t)) == plain


def _old_tidy(s: str) -> str:
    s = unicodedata.normalize("NFC", s.replace("\r\n", "\n").replace("\r", "\n"))
    s = text._INVISIBLE.sub("", s)
    s = text._CONTROL.sub("", s)
    lines = [text._SPACES.sub(" ", line).strip() for line in s.split("\n")]
    return text._BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def _old_fold(s: str) -> str:
    s = s.lower()
    if not s.isascii():
        s = unicodedata.normalize("NFKD", s)
        s = "".join(c for c in s if not unicodedata.combining(c))
    s = text._REPEATS.sub(r"\1\1", s)
    return text._REDUP.sub(r"\1 \1", s)


def _old_first_sentence(t: str) -> str:
    fallback = None
    for piece in text._SENTENCE_END.split(t):
        piece = piece.strip()
        if not text._THREE_WORD_CHARS.search(piece):
            continue
        if all(w in text.GREETING_WORDS for w in text.raw_tokens(piece)):
            fallback = fallback or piece
            continue
        return piece
    return fallback or t.strip()


def test_tidy_and_fold_pre_checks_change_nothing() -> None:
    old_place = re.compile(r"[0-9a-z]+|[,;:!?()\[\]\n/]")
    for t in [*_inputs(), "a \n\n\n\n b", "x\u00a0\u00a0y", "tab\there", "ctl\x01x", "a;b:c!d?(e)[f]\ng/h,,i",
              "2ab2", "a2 bc2", "0812222 cair2", "x22 y2 zz2z", "kata2nya", "é2 ée2",
              "Pak2. Halo. Rusak", "Pagiii min. Jalan", "Bapak2 ibu2, jalan rusak", "Hai. Halooo. Ok", "_pak2 x. y"]:
        assert text.tidy(t) == _old_tidy(t)
        assert text.fold(t) == _old_fold(t)
        assert text.place_tokens(t) == [w if w[0].isalnum() else "," for w in old_place.findall(_old_fold(t))]
        first = text.first_sentence(t)
        assert first == _old_first_sentence(t)
        pieces = text._SENTENCE_END.split(t)
        assert list(text._pieces(t)) == pieces
        assert first in (*(p.strip() for p in pieces), t.strip())


def _classic(body: str, wds: list[str], rules: topics.RuleSet) -> tuple[str, list[str]]:
    feats = classify.message_features(body, wds)
    return classify.classify(body, wds, feats), topics.refine(rules.score(body, wds), feats, rules)


def test_exact_sums_decide_as_the_float_scores(monkeypatch: pytest.MonkeyPatch) -> None:
    rules = topics.active()
    joint = linear.joint()
    assert joint is not None and joint.exact  # the shipped weights are on the 1/SCALE grid: the fast path runs
    cases = []
    for t in _inputs()[:2000]:
        wds = text.expand([w for w in text.place_tokens(t) if w != ","])
        cases.append((t, wds))
        cues = classify.rule_cues(t, wds)
        extra = topics.topic_features([], rules.score(t, wds))
        assert joint.message_int_scores(wds, t, cues, extra) == joint.int_scores(
            linear.feature_set(wds, t, cues), extra)
    fast = [_decide(t, wds, rules.score(t, wds), rules) for t, wds in cases]
    assert fast == [_classic(t, wds, rules) for t, wds in cases]
    monkeypatch.setattr(joint, "exact", False)  # the float path, used on exact ties
    assert [_decide(t, wds, rules.score(t, wds), rules) for t, wds in cases] == fast
    monkeypatch.setattr(linear, "joint", lambda: None)  # a model file without both tasks
    assert [_decide(t, wds, rules.score(t, wds), rules) for t, wds in cases[:300]] == fast[:300]


def test_exact_ties_are_left_to_the_float_scores() -> None:
    margin = linear.SCALE  # COMPLAINT_MARGIN 1.0 in 1/SCALE units
    assert classify.decide_exact({"complaint": 5, "aspiration": 5, "information_request": 0}, linear.SCALE) is None
    assert classify.decide_exact({"complaint": 0, "aspiration": margin, "information_request": 1}, linear.SCALE) is None
    assert classify.decide_exact({"complaint": 0, "aspiration": margin + 1, "information_request": 7},
                                 linear.SCALE) == "aspiration"
    assert classify.decide_exact({"complaint": 0, "aspiration": margin - 1, "information_request": 7},
                                 linear.SCALE) == "complaint"
    assert linear.unique_best([3, 7, 7]) is None
    assert linear.unique_best([3, 8, 7]) == 1


@pytest.mark.slow
def test_folding_keeps_classes_and_case_insensitive_letters_for_every_code_point() -> None:
    """What makes ``scan.folded`` + a lower-case pattern equal re.I on the text, for all of Unicode."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    any_letter = re.compile("[a-z]", re.I)
    classes = [re.compile(p) for p in (r"\w", r"\s", r"[0-9]", r"[^0-9\n]", r"[.\-]")]
    for cp in range(0x110000):
        c = chr(cp)
        f = scan.folded(c)
        assert len(f) == 1
        assert (any_letter.fullmatch(c) is not None) == (f in letters), hex(cp)
        if f in letters:
            assert [x for x in letters if re.fullmatch(x, c, re.I)] == [f], hex(cp)
        assert all((rx.fullmatch(c) is None) == (rx.fullmatch(f) is None) for rx in classes), hex(cp)


def _old_expand(tokens: list[str]) -> list[str]:
    out: list[str] = []
    for tok in tokens:
        std = text.SLANG.get(tok)
        out.extend(std.split() if std is not None and " " in std else [std if std is not None else tok])
    return out


def test_expand_fast_path_changes_nothing() -> None:
    slang = list(text.SLANG)
    for t in [*_inputs(), " ".join(slang), "makasih yg tlg", "kades sy"]:
        toks = text.raw_tokens(t)
        assert text.expand(toks) == _old_expand(toks)
    assert text.expand(["makasih", "yg"]) == ["terima", "kasih", "yang"]  # the two-word path is reached


def test_no_subject_is_what_extracting_an_empty_subject_gives() -> None:
    from normalizer import markers, normalize

    assert markers.extract(text.tidy("")) == normalize._NO_MARKERS


def test_enough_letters_search_equals_counting_every_letter() -> None:
    from normalizer import language

    letters = re.compile(r"[^\W\d_]")
    for s in [*_inputs(), "", "a" * 11, "a" * 12, "1a" * 11 + "_", "é" * 12, "ab1" * 6]:
        assert bool(language._ENOUGH_LETTERS.search(s)) == (len(letters.findall(s)) >= language.MIN_LETTERS), s
