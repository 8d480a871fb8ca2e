"""The per-message shortcuts of the CPU work give exactly what the straightforward code gave.

``pii.find_pii`` skips the digit patterns a text has too few digits for and tries each only where it can
begin; ``classify.scores`` and ``RuleSet.score`` visit only the words that begin a cue; ``region`` remembers
each (name, cue) pick; ``text._has_flood`` tests on integers. Each is compared with the code it replaced.
"""

from __future__ import annotations

import random

import pytest

from normalizer import classify, pii, region, scan, text, topics
from normalizer.pii import Span
from tests.normalizer import golden
from tests.normalizer.test_fast_paths import _hostile

_DIGIT_PIECES = ["0", "8", "08", "62", "+62", "0062", "(021)", "0812", "3273", "12345", "1.500.000", "Rp ", "rb",
                 " ", ".", "-", "\n", "rek ", "an ", "a.n ", "bank bri ", "no ", "wa ", "NIK ", "kk ", "B", "AB",
                 "DK ", "XYZ", "plat ", "@x.id", "a"]


def _digit_heavy(n: int, seed: int = 5) -> list[str]:
    rnd = random.Random(seed)
    return ["".join(rnd.choice(_DIGIT_PIECES) for _ in range(rnd.randint(1, 30))) for _ in range(n)]


def _inputs() -> list[str]:
    return [t for _, t in golden.texts()] + _hostile(2000) + _digit_heavy(4000) + [
        "NPWP 12.345.678.9-012.345 a.n PT Maju", "NIK 3273010101900001, KK 3273010101900002",
        "rek BRI 0123 4567 8901 a.n Budi", "hub (022) 7654-321 atau +62 812-3456-7890"]


def _ungated_find_pii(text_: str) -> list[Span]:
    """``find_pii`` before the digit-count gates and the narrower start lists (every pattern at every run)."""
    spans: list[Span] = []
    runs = scan.digit_runs(text_)
    if not runs:
        return spans if "@" not in text_ else pii._merge(
            [Span(m.start(), m.end(), "email") for m in pii._EMAIL.finditer(text_)])
    if "@" in text_:
        spans.extend(Span(m.start(), m.end(), "email") for m in pii._EMAIL.finditer(text_))
    spans.extend(Span(m.start(), m.end(), "npwp") for m in scan.finditer_at(pii._NPWP, text_, runs))
    for m in scan.finditer_at(pii._LONG_DIGITS, text_, runs):
        digits = pii._NON_DIGIT.sub("", m.group())
        has_nik = any(pii._valid_nik(digits[i:i + 16]) for i in range(len(digits) - 15))
        if not has_nik and pii._money(text_, m.start(), m.end()):
            continue
        before = text_[max(0, m.start() - 20):m.start()]
        kind = "kk" if len(digits) == 16 and pii._KK_CUE.search(before) else "nik" if has_nik else "id16"
        spans.append(Span(m.start(), m.end(), kind))
    low = text_.lower()
    hinted = any(map(low.__contains__, pii._ACCOUNT_HINTS)) or pii._ON_BEHALF.search(text_) is not None
    for m in pii._ACCOUNT_FOLDED.finditer(scan.folded(text_)) if hinted else ():
        digits = pii._NON_DIGIT.sub("", m.group(1))
        if 8 <= len(digits) <= 18 and not pii._money(text_, m.start(1), m.end(1)):
            spans.append(Span(m.start(1), m.end(1), "account"))
    signs = scan.word_starts(text_, "+(") if "+" in text_ or "(" in text_ else []
    phone_starts = sorted(runs + signs) if signs else runs
    for rx in (pii._MOBILE, pii._LANDLINE):
        for m in scan.finditer_at(rx, text_, phone_starts):
            digits = pii._NON_DIGIT.sub("", m.group())
            if 9 <= len(digits) <= 15 and not pii._money(text_, m.start(), m.end()):
                spans.append(Span(m.start(), m.end(), "phone"))
    for m in scan.finditer_at(pii._BARE_MOBILE, text_, [i for i in runs if text_[i] == "8"]):
        if pii._PHONE_CUE.search(text_[max(0, m.start() - 16):m.start()]):
            spans.append(Span(m.start(), m.end(), "phone"))
    for m in scan.finditer_at(pii._PLATE, text_, sorted({i - k for i in runs for k in (1, 2, 3) if i >= k})):
        if m.group(1).upper() not in pii._PLATE_CODES:
            continue
        cued = pii._PLATE_CUE.search(text_[max(0, m.start() - 40):m.start()])
        upper = m.group().isupper()
        if cued or (upper and m.group(1) in pii._PLATE_CODES and len(m.group(1)) + len(m.group(3)) >= 3):
            spans.append(Span(m.start(), m.end(), "plate"))
    return pii._merge(spans)


def test_digit_gates_find_every_span() -> None:
    texts = _inputs()
    got = [pii.find_pii(t) for t in texts]
    assert got == [_ungated_find_pii(t) for t in texts]
    kinds = {s.kind for spans in got for s in spans}
    assert {"phone", "nik", "id16", "npwp", "account", "plate"} <= kinds  # every gated pattern was reached


def _plain_class_scores(text_: str, toks: list[str]) -> dict[str, int]:
    out = {"information_request": 0, "aspiration": 0, "complaint": 0}
    seen: set[tuple[str, tuple[str, ...]]] = set()
    for i, tok in enumerate(toks):
        for cls, phrase, weight in classify._INDEX.get(tok, ()):
            if (cls, phrase) not in seen and tuple(toks[i:i + len(phrase)]) == phrase:
                seen.add((cls, phrase))
                out[cls] += weight
    if classify._QUESTION.search(text_):
        out["information_request"] += 1
    return out


def _plain_topic_scores(rules: topics.RuleSet, toks: list[str]) -> list[tuple[str, int]]:
    scores = [0] * len(rules.topics)
    seen: set[tuple[int, str]] = set()
    for i, tok in enumerate(toks):
        for phrase, ti, key in rules._phrases.get(tok, ()):
            if tuple(toks[i:i + len(phrase)]) == phrase and key not in seen:
                seen.add(key)
                scores[ti] += topics.PHRASE_WEIGHT
        for key in rules._stem_hits(tok):
            if key not in seen:
                seen.add(key)
                scores[key[0]] += topics.STEM_WEIGHT
    ranked = sorted(((s, -i) for i, s in enumerate(scores) if s > 0), reverse=True)
    return [(rules.topics[-neg].slug, s) for s, neg in ranked]


def test_cue_look_ups_score_as_the_plain_loops() -> None:
    shipped = topics.active()
    # a phrase that is also a stem of its topic: which one counts depends on the word met first
    clash = topics.parse_rules({"topics": [
        {"slug": "bansos", "agency": "Kemensos", "phrases": ["pkh", "bantuan sosial"], "stems": ["pkh", "bansos"]},
        {"slug": "jalan", "agency": "PUPR", "phrases": ["jalan rusak"], "stems": ["jalan", "rusak"]}]}, "test")
    texts = [*(t for _, t in golden.texts()), *_hostile(1000), "pkhnya belum cair, pkh", "pkh belum cair, pkhnya",
             "bantuan sosial bansos jalan rusak jalanan"]
    scored = 0
    for t in texts:
        wds = text.words(t)
        assert classify.scores(t, wds) == _plain_class_scores(t, wds)
        assert shipped.score(t, wds) == _plain_topic_scores(shipped, wds)
        assert clash.score(t, wds) == _plain_topic_scores(clash, wds)
        scored += bool(clash.score(t, wds))
    assert clash.score("", ["pkhnya", "pkh"]) == [("bansos", 1)] and clash.score("", ["pkh", "pkhnya"]) == [
        ("bansos", 3)]
    assert scored > 20


def test_remembered_region_picks_are_the_cue_rules() -> None:
    words = ["", "di", "kab", "kota", "kec", "prov", "warga", "menuju", "pak"]
    for key, places in list(region._INDEX.items())[::7]:
        for prev in words:
            cue = prev if prev in region._CUE_WORDS else ""
            chosen, alt = region._picked(key, places, cue)
            assert list(chosen) == region._by_cue(places, prev, " ".join(key))
            assert list(alt) == ([p for p in places if p.level == "dist"]
                                 if chosen and chosen[0].level == "reg" else [])


def test_letter_floods_found_on_integers_as_by_the_pattern() -> None:
    rnd = random.Random(3)
    alphabet = "aab z{`\x00\x7f.2AAé"
    samples = ["".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 14))) for _ in range(30000)]
    samples += [t.lower() for _, t in golden.texts()] + ["aaa", "zzz", "`aa", "{{{", "aa", "tolooong", "é" * 3]
    found = [text._has_flood(t) for t in samples]
    assert found == [bool(text._REPEATS.search(t)) for t in samples]
    assert 100 < sum(found) < len(found)


def test_sentence_breaks_found_by_their_mark_split_as_the_pattern() -> None:
    rnd = random.Random(2)
    alphabet = ["a", ".", "!", "?", " ", "\n", "\t", "\u00a0", "\u2028", "b", "..", "\x0b", "Rp 1.500", "?!"]
    samples = ["".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 14))) for _ in range(30000)]
    samples += [t for _, t in golden.texts()]
    for t in samples:
        assert list(text._pieces(t)) == text._SENTENCE_END.split(t)


def test_remembered_regions_are_the_fresh_resolution(monkeypatch: pytest.MonkeyPatch) -> None:
    texts = [t for _, t in golden.texts()] + ["Kec. Sukajadi, Kota Bandung", "jalan rusak di Depok, Sleman"]
    fresh = []
    for t in texts:
        region._RESOLVED.clear()
        fresh.append(region.find_region(t))
    assert [region.find_region(t) for t in texts] == fresh  # now from the cache
    assert sum(m.found for m in fresh) > 500
    monkeypatch.setattr(region, "_RESOLVED_MAX", 50)
    monkeypatch.setattr(region, "_PICKED_MAX", 40)  # both caches cleared when full, answers unchanged
    region._PICKED.clear()  # new pick objects: the remembered answers of the old ones are never taken for them
    assert [region.find_region(t) for t in texts] == fresh
    assert len(region._RESOLVED) <= 50 and len(region._PICKED) <= 40


def test_ascii_separator_table_is_the_character_map() -> None:
    every_ascii = "".join(map(chr, range(128)))
    assert every_ascii.encode("ascii").translate(text._TO_COMMA_ASCII).decode("ascii") == every_ascii.translate(
        text._TO_COMMA)
    assert text.place_tokens("Permisi pak; Kalsel (Banjar)/jalan\nrusak") == [
        "permisi", "pak", ",", "kalsel", ",", "banjar", ",", ",", "jalan", ",", "rusak"]
