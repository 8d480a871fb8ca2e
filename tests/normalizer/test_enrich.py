"""Spam repeat counter in Redis (real redis-server), and the dispatcher using it end to end."""

from __future__ import annotations

import asyncio

import pytest

from bench.complaints import complaint_text
from channels.core.hooks import Emit
from dispatcher.enrich import REPEAT_PREFIX, default_enrichers, repeat_counter, repeat_key, text_fingerprint
from normalizer import spam, topics
from tests.normalizer.helpers import msg
from tests.support.core import wait_for_records


def emit(text: str, rid: str, sender: str = "081234567890") -> Emit:
    m = msg(text)
    m.sender.id = sender
    m.id = rid
    return Emit([m])


async def test_counts_same_text_same_sender(r):
    enrich = repeat_counter(window_s=60, threshold=3)
    counts = []
    for i, text in enumerate(["Jalan rusak!", "jalan  RUSAK", "jalan rusak."]):
        e = emit(text, f"01JD00000000000000000000{i:02d}")
        await enrich(r, [e])
        counts.append(e.ctx.repeat_count)
        assert e.ctx.repeat_threshold == 3
    assert counts == [1, 2, 3]


async def test_a_whole_batch_is_counted_in_one_call(r):
    enrich = repeat_counter(window_s=60, threshold=3)
    batch = [emit("lampu mati", f"01JD0000000000000000000B{i:02d}") for i in range(4)]
    batch.insert(2, emit("  🙏 ", "01JD0000000000000000000BXX"))  # nothing to compare: not counted
    batch.append(emit("lampu mati", "01JD0000000000000000000BZZ", sender="085700000000"))
    await enrich(r, batch)
    assert [e.ctx.repeat_count for e in batch] == [1, 2, 0, 3, 4, 1]


async def test_redelivered_message_is_not_counted_twice(r):
    enrich = repeat_counter(window_s=60, threshold=3)
    for _ in range(3):
        e = emit("air mati", "01JD0000000000000000000R01")
        await enrich(r, [e])
    assert e.ctx.repeat_count == 1


async def test_other_sender_or_other_text_counts_separately(r):
    enrich = repeat_counter(window_s=60, threshold=3)
    await enrich(r, [emit("sampah menumpuk", "01JD0000000000000000000S01")])
    other_sender = emit("sampah menumpuk", "01JD0000000000000000000S02", sender="085700000000")
    other_text = emit("sampah menumpuk lagi", "01JD0000000000000000000S03")
    await enrich(r, [other_sender])
    await enrich(r, [other_text])
    assert other_sender.ctx.repeat_count == 1 and other_text.ctx.repeat_count == 1


async def test_window_slides(r):
    enrich = repeat_counter(window_s=1, threshold=3)
    await enrich(r, [emit("banjir lagi", "01JD0000000000000000000W01")])
    await asyncio.sleep(1.3)
    e = emit("banjir lagi", "01JD0000000000000000000W02")
    await enrich(r, [e])
    assert e.ctx.repeat_count == 1


async def test_keys_expire_and_hold_no_phone_number(r):
    enrich = repeat_counter(window_s=30, threshold=3)
    await enrich(r, [emit("pungli", "01JD0000000000000000000K01", sender="081299998888")])
    keys = [k.decode() async for k in r.scan_iter(match=REPEAT_PREFIX + "*")]
    assert keys and not any("081299998888" in k for k in keys)
    for k in keys:
        assert 0 < await r.ttl(k) <= 90


async def test_batch_keys_are_the_fingerprint_keys(r):
    """The batch path hashes the words it tokenized once: same key as ``repeat_key`` (spam.fingerprint)."""
    enrich = repeat_counter(window_s=30, threshold=3)
    text = "Jalan RUSAK parah di Désa Sukamaju!!! 😡 tolong diperbaiki"
    await enrich(r, [emit(text, "01JD0000000000000000000F01", sender="081211112222")])
    keys = [k.decode() async for k in r.scan_iter(match=REPEAT_PREFIX + "*")]
    assert keys == [repeat_key("msisdn:081211112222", text)]


async def test_counts_after_a_script_flush(r):
    """The counter runs by EVALSHA: a Redis that lost its script cache (restart, failover) still counts."""
    enrich = repeat_counter(window_s=30, threshold=3)
    await enrich(r, [emit("lampu jalan mati", "01JD0000000000000000000F02")])
    await r.script_flush()
    e = emit("lampu jalan mati", "01JD0000000000000000000F03")
    await enrich(r, [e])
    assert e.ctx.repeat_count == 2


async def test_empty_text_is_not_counted(r):
    enrich = repeat_counter(window_s=30, threshold=3)
    e = emit("  🙏 ", "01JD0000000000000000000E01")
    await enrich(r, [e])
    assert e.ctx.repeat_count == 0


def test_default_enrichers_validate_rule_file(make_settings, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("topics:\n  - slug: x\n", encoding="utf-8")
    with pytest.raises(topics.RulesError, match="agency"):
        default_enrichers(make_settings(rules_file=bad))
    try:
        assert len(default_enrichers(make_settings())) == 1
        assert topics.active().source == "config/topics.yaml"
    finally:
        topics.use_rules(None)


async def test_dispatcher_flags_the_third_identical_message(gateway, rsync):
    await gateway.start_worker()
    auth = {"Authorization": "Bearer test-http-token"}
    for i in range(3):
        doc = {"id": f"rep-{i}", "text": "Jalan rusak parah di depan rumah", "reporter": {"phone": "081100000009"}}
        status, _b, _h = await gateway.post("/channels/http/complaints", json=doc, headers=auth)
        assert status == 202
    records = await asyncio.to_thread(wait_for_records, rsync, 3, 15.0)
    flagged = [rec for rec in records if "possible_spam" in rec["flags"]]
    assert len(records) == 3 and len(flagged) == 1
    assert all(rec["topics"][0] == "roads" for rec in records)


@pytest.mark.parametrize("text", [
    "Jalan RUSAK parah di Désa Sukamaju!!! 😡 tolong diperbaiki", "jalan  rusak,parah\n(RT 03/RW 05) no.12",
    "tolonggg banget2 ya", "lampu mati_total - 081234567890 @pemkot #banjir", "ASCII only: A-Z a-z 0-9 ~`^|{}",
    "  🙏 ", "", "!!!", "ÇA Straße ﬁx ２０２６", "x", "tab\tand\rcarriage",
])
def test_text_fingerprint_is_spam_fingerprint(text):
    """The fast (ASCII) and fallback paths give ``spam.fingerprint`` exactly, None when no words."""
    assert text_fingerprint(text) == (spam.fingerprint(text) if spam.fingerprint_words(text) else None)


def test_text_fingerprint_agrees_on_the_load_test_complaints():
    texts = [complaint_text(i) for i in range(300)]
    assert all(text_fingerprint(t) == spam.fingerprint(t) for t in texts)
