"""Odd payloads never crash the parser: every event becomes a message or a counted skip."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from channels.twitter.convert import InvalidEvent, tweet_message, view_from_v2
from channels.twitter.inbound import _dms, _tweets

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
MENTION = json.loads((FIXTURES / "aaa-mention.json").read_text())["tweet_create_events"][0]
DM = json.loads((FIXTURES / "aaa-dm.json").read_text())["direct_message_events"][0]

# what orjson.loads can produce (it turns integers beyond 64 bits into floats)
scalars = (st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | st.floats(allow_nan=False)
           | st.text(max_size=30))
json_values = st.recursive(scalars, lambda kids: st.lists(kids, max_size=4) | st.dictionaries(
    st.text(max_size=12), kids, max_size=4), max_leaves=20)


def mutate(base: dict, data: st.DataObject) -> dict:
    """The real event with some fields replaced by arbitrary JSON."""
    doc = json.loads(json.dumps(base))
    if not doc:
        return doc
    for key in data.draw(st.lists(st.sampled_from(sorted(doc)), max_size=6)):
        doc[key] = data.draw(json_values)
    if isinstance(doc.get("entities"), dict):
        for key in data.draw(st.lists(st.sampled_from(["hashtags", "urls", "user_mentions", "media"]), max_size=3)):
            doc["entities"][key] = data.draw(json_values)
    return doc


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_mutated_tweet_events(data):
    events = [mutate(MENTION, data), data.draw(json_values)]
    skipped: Counter[str] = Counter()
    msgs = _tweets(events, "2818371708", "LAPOR1708", skipped)
    assert len(msgs) + sum(skipped.values()) == len(events)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_mutated_dm_events(data):
    ev = mutate(DM, data)
    if isinstance(ev.get("message_create"), dict):
        ev["message_create"] = mutate(ev["message_create"], data)
    events = [ev, data.draw(json_values)]
    skipped: Counter[str] = Counter()
    msgs = _dms(events, {"3000000000000001": data.draw(json_values)}, "2818371708", "LAPOR1708", skipped)
    assert len(msgs) + sum(skipped.values()) == len(events)


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.sampled_from(["id", "author_id", "text", "entities", "geo", "attachments",
                                        "referenced_tweets", "note_tweet", "created_at"]), json_values),
       st.dictionaries(st.sampled_from(["users", "media", "places"]), json_values))
def test_arbitrary_v2_tweets(tweet, includes):
    try:
        view = view_from_v2(tweet, includes)
    except InvalidEvent:
        return
    tweet_message(view, provider="x-poll", handle="LAPOR1708", raw=None)
