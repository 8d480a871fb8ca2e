"""The claims of ``dispatcher/conversation.lua`` against a real redis-server: atomic, re-entrant per
stream entry, and a dead claimer's answer released after the grace period."""

from __future__ import annotations

from typing import Any

import orjson

from channels.core.outbound import OutboundMessage
from channels.core.reference import question_text, reference
from config.settings import Settings
from dispatcher.conversation import Conversations, _write_hold, question_failed, question_id
from gateway import keys
from normalizer.models import InboundMessage, ReplyTo, Sender
from normalizer.normalize import normalize

RID = "01JCQNVERSAT1QNTESTRECRD00"


def _record() -> dict[str, Any]:
    msg = InboundMessage(channel="sms", provider="kannel", kind="sms", native_id="kannel:c-1",
                         sender=Sender(kind="msisdn", id="+6281234567890"), text="Jalan rusak parah sekali",
                         reply_to=ReplyTo(channel="sms", address="+6281234567890"))
    msg.stamp(RID)
    return normalize([msg]).to_json_dict()


RECORD = _record()


async def _held(r: Any, settings: Settings, now: float) -> Conversations:
    conv = Conversations(r, settings.model_copy(update={"completeness_wait_s": 100}))
    async with r.pipeline(transaction=True) as pipe:
        _write_hold(conv, RECORD, now, pipe)
        await pipe.execute()
    return conv


async def test_answer_claim_is_reentrant_for_its_entry_and_late_for_another(r: Any, settings: Settings) -> None:
    conv = await _held(r, settings, now=1000.0)
    assert await r.zscore(keys.HELD_DUE, RID) == 1100.0
    [(_eid, fields)] = await r.xrange(keys.OUTBOUND_STREAM)
    question = OutboundMessage.loads(fields[b"m"])  # the one question, with what WhatsApp/Telegram need
    assert question.kind == "question" and question.address == "+6281234567890" and question.record_id == RID
    assert question.meta["outbound_id"] == f"question-{RID}" and question.meta["ask_location"] is True
    assert question.text == question_text(reference(RID), short=True)
    assert await r.hget(keys.expect("sms", "+6281234567890"), "outbound_id") == question_id(RID).encode()
    first = await conv._lua(keys.held(RID), "answer", "1-1", "1050")
    assert first[0] == b"answer" and orjson.loads(first[1])["id"] == RID
    again = await conv._lua(keys.held(RID), "answer", "1-1", "1060")  # the same entry, re-processed
    assert again == first
    assert await conv._lua(keys.held(RID), "answer", "2-1", "1060") == [b"late"]  # another message
    # the sweep leaves a claimed answer alone until the grace period has passed
    assert await conv._lua(keys.held(RID), "timeout", "1101", str(conv.grace_s)) is None
    late = await conv._lua(keys.held(RID), "timeout", str(1100 + conv.grace_s + 1), str(conv.grace_s))
    assert late[0] == b"timeout" and orjson.loads(late[1])["id"] == RID
    assert await conv._lua(keys.held(RID), "answer", "1-1", "1070") == [b"late"]  # the timeout won


async def test_an_answer_after_the_deadline_is_late_and_the_timeout_is_reentrant(r: Any, settings: Settings) -> None:
    conv = await _held(r, settings, now=1000.0)
    assert await conv._lua(keys.held(RID), "answer", "1-1", "1100.5") == [b"late"]
    assert await conv._lua(keys.held(RID), "timeout", "1099", "60") is None  # not due yet
    assert await conv._lua(keys.held(RID), "timeout", "1101", "60") is not None
    assert await conv._lua(keys.held(RID), "timeout", "1101", "60") is not None  # a crashed sweeper's redo


async def test_reply_link_goes_to_the_next_message_only(r: Any, settings: Settings) -> None:
    conv = await _held(r, settings, now=1000.0)
    key = keys.expect("sms", "+6281234567890")
    assert await conv._lua(key, "expect", "5-1", "2000") == [RID.encode(), question_id(RID).encode()]
    assert await conv._lua(key, "expect", "5-1", "2001") is not None  # re-entrant
    assert await conv._lua(key, "expect", "6-1", "2002") is None  # taken by the message before
    await conv._lua(key, "release", "by", "6-1")  # not the claimer: nothing happens
    assert await r.exists(key)
    await conv._lua(key, "release", "by", "5-1")
    assert not await r.exists(key)
    conv2 = await _held(r, settings, now=1000.0)
    until = float(await r.hget(key, "until"))
    assert await conv2._lua(key, "expect", "7-1", str(until + 1)) is None  # after the window


async def test_a_failed_question_releases_the_hold_once_and_forgets_the_route(r: Any, settings: Settings) -> None:
    conv = await _held(r, settings, now=1000.0)
    [(_eid, fields)] = await r.xrange(keys.OUTBOUND_STREAM)
    question = OutboundMessage.loads(fields[b"m"])
    assert await question_failed(r, question) is True
    assert await question_failed(r, question) is False  # its dead letter after the failed attempt: once
    assert await r.exists(keys.expect("sms", "+6281234567890")) == 0  # the next message is not an answer
    assert await r.zscore(keys.HELD_DUE, RID) != 1100.0  # due now (wall clock), not at the end of the wait
    assert await conv._lua(keys.held(RID), "answer", "1-1", "1001") == [b"late"]
    res = await conv._lua(keys.held(RID), "timeout", "1001", "60")  # due at once, not after the wait
    assert res[0] == b"failed" and orjson.loads(res[1])["completeness"]["asked"] == []
    assert (await conv._lua(keys.held(RID), "timeout", "1001", "60"))[0] == b"failed"  # re-entrant


async def test_a_question_failing_after_the_answer_was_claimed_changes_nothing(r: Any, settings: Settings) -> None:
    await _held(r, settings, now=1000.0)
    conv = Conversations(r, settings.model_copy(update={"completeness_wait_s": 100}))
    [(_eid, fields)] = await r.xrange(keys.OUTBOUND_STREAM)
    assert (await conv._lua(keys.held(RID), "answer", "1-1", "1050"))[0] == b"answer"
    assert await question_failed(r, OutboundMessage.loads(fields[b"m"])) is False
    assert await r.hget(keys.held(RID), "state") == b"answer"
