"""Property test: whatever shape a (validly signed) delivery has, the split never raises; it
yields valid messages or counted skips — never a parser crash that would quarantine the batch."""

from __future__ import annotations

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from channels.meta.inbound import split
from normalizer.models import InboundMessage

scalars = st.one_of(st.none(), st.booleans(), st.integers(-(2**63), 2**63), st.floats(allow_nan=False),
                    st.text(max_size=12), st.sampled_from(["101", "m_1", "add", "edited", "remove", "comment",
                                                           "post", "feed", "comments", "mentions", "image"]))
anything = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                         st.dictionaries(st.text(max_size=8), inner, max_size=4)),
                        max_leaves=12)


def maybe(strategy):
    return st.one_of(strategy, anything)


ids = maybe(st.sampled_from(["101", "202", "6543", 101]))
message = st.fixed_dictionaries({}, optional={
    "mid": maybe(st.text(min_size=1, max_size=8)), "text": maybe(st.text(max_size=30)),
    "is_echo": anything, "is_deleted": anything, "attachments": maybe(st.lists(st.fixed_dictionaries({}, optional={
        "type": maybe(st.sampled_from(["image", "video", "location", "fallback", "file"])),
        "payload": maybe(st.fixed_dictionaries({}, optional={"url": anything, "coordinates": anything,
                                                             "sticker_id": anything}))}), max_size=3)),
    "quick_reply": anything, "reply_to": anything})
messaging = st.fixed_dictionaries({}, optional={
    "sender": maybe(st.fixed_dictionaries({"id": ids})), "recipient": anything, "timestamp": anything,
    "message": maybe(message), "postback": anything, "message_edit": anything, "read": anything})
value = st.fixed_dictionaries({}, optional={
    "item": maybe(st.sampled_from(["comment", "post", "status", "reaction"])),
    "verb": maybe(st.sampled_from(["add", "edited", "remove", "hide"])), "comment_id": ids, "post_id": ids,
    "id": ids, "from": maybe(st.fixed_dictionaries({"id": ids})), "message": anything, "text": anything,
    "created_time": anything, "parent_id": anything, "media": anything, "media_id": ids, "photo": anything})
change = st.fixed_dictionaries({"field": maybe(st.sampled_from(["feed", "comments", "mentions"])),
                                "value": maybe(value)})
entry = st.fixed_dictionaries({"id": ids, "time": anything}, optional={
    "messaging": maybe(st.lists(maybe(messaging), max_size=3)), "changes": maybe(st.lists(maybe(change), max_size=3)),
    "standby": anything})
delivery = st.fixed_dictionaries({"object": st.sampled_from(["page", "instagram", "user"]),
                                  "entry": st.lists(maybe(entry), max_size=4)})


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(delivery)
def test_split_never_raises(doc):
    body = orjson.dumps(doc, option=orjson.OPT_NON_STR_KEYS) if doc else b"{}"
    messages, skipped = split(doc, body)
    for m in messages:
        assert isinstance(m, InboundMessage) and m.native_id and m.sender.id
        assert m.channel == {"page": "facebook", "instagram": "instagram"}[doc["object"]]
        InboundMessage.model_validate_json(m.model_dump_json())  # survives the stream round trip
    assert all(n > 0 for n in skipped.values())
