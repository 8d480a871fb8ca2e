"""Topics and the suggested agency, from the admin-editable rule file ``config/topics.yaml``.

The rules are compiled once into two dictionaries (first word of a phrase → phrases, stem →
topics), so matching a message is a single pass over its words whatever the number of rules.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from itertools import compress
from pathlib import Path
from typing import Any

import yaml

from normalizer.text import words

PHRASE_WEIGHT = 3
STEM_WEIGHT = 1
_SLUG = re.compile(r"^[a-z][a-z0-9-]{0,62}$")
_SHORT_STEM_SUFFIXES = ("", "nya", "ku", "mu", "an", "kan")  # stems of ≤3 letters: whole word or these


class RulesError(ValueError):
    """The topic rule file is unusable; the message lists every problem found."""


@dataclass(frozen=True)
class Topic:
    slug: str
    label: str
    agency: str
    phrases: tuple[tuple[str, ...], ...]
    stems: tuple[str, ...]


class _TokenCache(dict[str, tuple[Any, ...]]):
    """token -> ``RuleSet._token(token)``, computed on first sight, so a message's look-ups are one ``map``
    in C; bounded: every new phone number or name is a new token."""

    def __init__(self, compute: Callable[[str], tuple[Any, ...]]) -> None:
        super().__init__()
        self._compute = compute

    def __missing__(self, tok: str) -> tuple[Any, ...]:
        entry = self._compute(tok)
        if len(self) > 20_000:
            self.clear()
        self[tok] = entry
        return entry


@dataclass
class RuleSet:
    topics: list[Topic]
    source: str
    # first word -> (phrase, topic, its key in ``score``'s seen set), longest phrase first
    _phrases: dict[str, list[tuple[tuple[str, ...], int, tuple[int, str]]]] = field(default_factory=dict, repr=False)
    _slugs: dict[str, Topic] = field(default_factory=dict, repr=False)
    _stems: dict[str, list[int]] = field(default_factory=dict, repr=False)
    _max_stem: int = 0
    _initials: frozenset[str] = field(default=frozenset(), repr=False)  # first letters of every stem and phrase
    # token -> (its one-word phrases, its longer phrases by second word, its stem hits), or () when it has
    # none of them (most words): one look-up
    _tok_cache: _TokenCache = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._tok_cache = _TokenCache(self._token)
        for i, t in enumerate(self.topics):
            self._slugs.setdefault(t.slug, t)
            for p in t.phrases:
                self._phrases.setdefault(p[0], []).append((p, i, (i, " ".join(p))))
            for s in t.stems:
                self._stems.setdefault(s, []).append(i)
                self._max_stem = max(self._max_stem, len(s))
        for lst in self._phrases.values():
            lst.sort(key=lambda x: -len(x[0]))
        self._initials = frozenset(w[0] for w in (*self._stems, *self._phrases))  # a phone number begins none

    def _stem_hits(self, tok: str) -> tuple[tuple[int, str], ...]:
        """(topic, stem) pairs for the longest stem ``tok`` begins with."""
        for end in range(min(len(tok), self._max_stem), 1, -1):
            hits = self._stems.get(tok[:end])
            if hits is None or (end <= 3 and tok[end:] not in _SHORT_STEM_SUFFIXES):
                continue
            return tuple((ti, tok[:end]) for ti in hits)
        return ()

    def _token(self, tok: str) -> tuple[Any, ...]:
        """``tok``'s phrases and stem hits as ``score`` reads them, () when it has none (cached by ``_tok_cache``)."""
        if tok[:1] not in self._initials:
            return ()
        phrases, stems = self._phrases.get(tok, ()), self._stem_hits(tok)
        if not phrases and not stems:
            return ()
        # the one-word phrases, the longer ones by their second word (most are not followed by it), the stems
        longer: dict[str, list[tuple[tuple[str, ...], int, tuple[int, str]]]] = {}
        for entry in phrases:
            if len(entry[0]) > 1:
                longer.setdefault(entry[0][1], []).append(entry)
        return tuple((ti, key) for p, ti, key in phrases if len(p) == 1), longer, stems

    def by_slug(self, slug: str) -> Topic | None:
        return self._slugs.get(slug)

    def score(self, text: str, toks: list[str] | None = None) -> list[tuple[str, int]]:
        """Topic slugs with their scores, best first (ties: rule order). ``toks``: ``words(text)`` if known."""
        if toks is None:
            toks = words(text)
        scores = [0] * len(self.topics)
        seen: set[tuple[int, str]] = set()
        entries = list(map(self._tok_cache.__getitem__, toks))
        last = len(toks) - 1
        for i in compress(range(len(toks)), entries):  # in order: a phrase and a stem may share a key
            singles, longer, stems = entries[i]
            for ti, key in singles:
                if key not in seen:
                    seen.add(key)
                    scores[ti] += PHRASE_WEIGHT
            if longer and i < last:
                for phrase, ti, key in longer.get(toks[i + 1], ()):
                    if key not in seen and tuple(toks[i:i + len(phrase)]) == phrase:
                        seen.add(key)
                        scores[ti] += PHRASE_WEIGHT
            for key in stems:
                if key not in seen:
                    seen.add(key)
                    scores[key[0]] += STEM_WEIGHT
        ranked = sorted([(s, -i) for i, s in enumerate(scores) if s > 0], reverse=True) if seen else []
        return [(self.topics[-neg].slug, s) for s, neg in ranked]


def _phrase(value: Any) -> tuple[str, ...]:
    return tuple(words(str(value)))


def parse_rules(data: Any, source: str) -> RuleSet:
    """Validate the YAML structure; raise ``RulesError`` listing every problem."""
    problems: list[str] = []
    if not isinstance(data, dict) or not isinstance(data.get("topics"), list) or not data["topics"]:
        raise RulesError(f"{source}: expected a mapping with a non-empty list `topics`")
    if data.get("version", 1) != 1:
        problems.append(f"version {data.get('version')!r} is not supported (expected 1)")
    topics: list[Topic] = []
    seen: set[str] = set()
    for i, raw in enumerate(data["topics"]):
        where = f"topics[{i}]"
        if not isinstance(raw, dict):
            problems.append(f"{where}: must be a mapping")
            continue
        where = f"topics[{i}] ({raw.get('slug', '?')})"
        unknown = set(raw) - {"slug", "label", "agency", "phrases", "stems"}
        if unknown:
            problems.append(f"{where}: unknown key(s) {', '.join(sorted(map(str, unknown)))}")
        slug = raw.get("slug")
        if not isinstance(slug, str) or not _SLUG.match(slug):
            problems.append(f"{where}: slug must match {_SLUG.pattern}")
            slug = f"?{i}"
        elif slug in seen:
            problems.append(f"{where}: duplicate slug")
        seen.add(slug)
        agency = raw.get("agency")
        if not isinstance(agency, str) or not agency.strip():
            problems.append(f"{where}: agency must be a non-empty string")
            agency = ""
        label = raw.get("label", slug)
        if not isinstance(label, str) or not label.strip():
            problems.append(f"{where}: label must be a non-empty string")
            label = str(slug)
        lists: dict[str, list[str]] = {}
        for key in ("phrases", "stems"):
            value = raw.get(key, [])
            if not isinstance(value, list) or not all(isinstance(v, str | int) and str(v).strip() for v in value):
                problems.append(f"{where}: {key} must be a list of non-empty strings")
                value = []
            lists[key] = [str(v) for v in value]
        phrases = tuple(p for p in (_phrase(v) for v in lists["phrases"]) if p)
        stems: list[str] = []
        for s in lists["stems"]:
            toks = words(s)
            if len(toks) != 1 or len(toks[0]) < 2:
                problems.append(f"{where}: stem {s!r} must be one word of at least 2 letters")
            else:
                stems.append(toks[0])
        if not phrases and not stems:
            problems.append(f"{where}: needs at least one phrase or stem")
        topics.append(Topic(slug, label.strip(), agency.strip(), phrases, tuple(stems)))
    if problems:
        raise RulesError(f"{source}: invalid topic rules:\n  " + "\n  ".join(problems))
    return RuleSet(topics, source)


def load_rules(path: Path | str | None = None) -> RuleSet:
    """Rules from ``path`` (``settings.rules_file``) or the shipped ``config/topics.yaml``."""
    if path is None:
        ref = resources.files("config").joinpath("topics.yaml")
        source, text = "config/topics.yaml", ref.read_text(encoding="utf-8")
    else:
        source = str(path)
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise RulesError(f"{source}: cannot read topic rules: {exc}") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise RulesError(f"{source}: not valid YAML: {exc}") from exc
    return parse_rules(data, source)


_active: RuleSet | None = None


def use_rules(rules: RuleSet | None) -> None:
    """Make ``rules`` the set ``normalize`` uses (None: back to the shipped file)."""
    global _active
    _active = rules


def active() -> RuleSet:
    global _active
    if _active is None:
        _active = load_rules(None)
    return _active


def classify_topics(text: str, rules: RuleSet | None = None, toks: list[str] | None = None) -> list[str]:
    return [slug for slug, _ in (rules or active()).score(text, toks)]


def topic_features(feats: list[str], ranked: list[tuple[str, int]]) -> list[str]:
    """The message features plus what the rules found (best rule topic, every matched topic)."""
    extra = [f"rt:{ranked[0][0]}"] if ranked else ["rt:_none"]
    extra += [f"rs:{slug}" for slug, _ in ranked[:3]]
    return [*feats, *extra]


def refine(ranked: list[tuple[str, int]], feats: list[str], rules: RuleSet | None = None) -> list[str]:
    """Rule topics, best first, with the linear model's pick put first when the rule file knows it.

    The model learned from many wordings; the rules know the admin's current topic list. A topic
    the model names that the rule file no longer has is ignored.
    """
    from normalizer import linear

    model = linear.models().get("topic")
    if model is None:
        return [slug for slug, _ in ranked]
    top, _ = model.predict(topic_features(feats, ranked))
    return put_first(top, ranked, rules)


def refine_scored(ranked: list[tuple[str, int]], feat_scores: list[float], rules: RuleSet | None = None) -> list[str]:
    """``refine`` from the topic model's scores of the message features alone (``linear.joint()``):
    the rule cues of ``topic_features`` are added here, after the message features, as there."""
    from normalizer import linear

    model = linear.models()["topic"]
    s = list(feat_scores)
    get = model.weights.get
    for f in topic_features([], ranked):
        for k, w in get(f, ()):
            s[k] += w
    best = min(range(len(s)), key=lambda k: (-s[k], k))  # LinearModel.predict's pick, ties to the earlier class
    return put_first(model.classes[best], ranked, rules)


def put_first(top: str, ranked: list[tuple[str, int]], rules: RuleSet | None) -> list[str]:
    """The rule topics with the model's pick ``top`` first, when the rule file knows it."""
    slugs = [slug for slug, _ in ranked]
    if top == "_none" or (rules or active()).by_slug(top) is None:
        return slugs
    return [top, *(s for s in slugs if s != top)]


def agency_for(slugs: Sequence[str], rules: RuleSet | None = None) -> str | None:
    if not slugs:
        return None
    topic = (rules or active()).by_slug(slugs[0])
    return topic.agency if topic else None
