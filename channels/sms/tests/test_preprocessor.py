"""The reassembly preprocessor against a real Redis, step by step (races the e2e tests cannot time)."""

from __future__ import annotations

import orjson

from channels.sms import decoding, message
from channels.sms.hooks import DUE, SmsPreprocessor, done_key, group_id, parts_key
from gateway.intake import new_record_id


def part(seq: int, total: int = 3, text: bytes = b"x", kid: str | None = None):
    m = message.build(provider="kannel", native_id=kid or f"kannel:p{seq}", sender="081234567890", recipient="1708",
                      data=text, codec="kannel-text", concat=decoding.Concat(9, total, seq))
    m.stamp(new_record_id())
    return m


async def commit(r, emit) -> None:
    async with r.pipeline(transaction=True) as pipe:
        for fn in emit.extra:
            fn(pipe)
        await pipe.execute()


async def test_part_arriving_while_a_timed_out_set_is_emitted_is_not_lost(r, make_settings):
    pre = SmsPreprocessor(make_settings(multipart_timeout_s=1))
    p1, p2, p3 = part(1, text=b"satu "), part(2, text=b"dua "), part(3, text=b"tiga")
    assert (await pre.prepare(r, p1)).emit == [] and (await pre.prepare(r, p2)).emit == []
    gid = group_id(p1)
    await r.zadd(DUE, {gid: 0})  # time is up
    (timed_out,) = await pre.sweep(r)  # the sweep builds the incomplete record …
    assert [m.native_id for m in timed_out.messages] == ["kannel:p1", "kannel:p2"]
    assert timed_out.ctx.extra_flags == ["multipart_incomplete"]
    # … part 3 lands before the sweep's transaction commits; its own emit loses the exactly-once race
    late_decision = await pre.prepare(r, p3)
    assert late_decision.emit and late_decision.emit[0].messages[0].id == p1.id
    await commit(r, timed_out)
    assert await r.hkeys(parts_key(gid)) == [b"3"]  # part 3 kept, due at once
    assert await r.zscore(DUE, gid) is not None
    (late,) = await pre.sweep(r)
    assert [m.native_id for m in late.messages] == ["kannel:p3"] and late.messages[0].text == "tiga"
    assert late.ctx.in_reply_to == p1.id and "multipart_incomplete" in late.ctx.extra_flags
    await commit(r, late)
    assert not await r.exists(parts_key(gid)) and await r.zscore(DUE, gid) is None
    assert orjson.loads(await r.get(done_key(gid)))["seqs"] == [1, 2, 3]
    # and yet another copy of part 3 is now a duplicate
    assert (await pre.prepare(r, part(3, text=b"tiga", kid="kannel:p3-again"))).skipped == "duplicate_part"


async def test_duplicate_part_with_new_id_does_not_complete_twice(r, settings):
    pre = SmsPreprocessor(settings)
    assert (await pre.prepare(r, part(1, total=2))).emit == []
    assert (await pre.prepare(r, part(1, total=2, kid="kannel:p1-copy"))).skipped == "duplicate_part"
    p2 = part(2, total=2)
    done = await pre.prepare(r, p2)
    assert len(done.emit) == 1 and len(done.emit[0].messages) == 2
    # the same entry processed again after a crash before its commit completes the set again
    again = await pre.prepare(r, p2)
    assert len(again.emit) == 1 and again.emit[0].messages[0].id == done.emit[0].messages[0].id


async def test_single_messages_pass_and_empty_ones_get_help(r, settings):
    pre = SmsPreprocessor(settings)
    single = message.build(provider="smpp", native_id="smpp:1", sender="6281234567890", recipient="1708",
                           data=b"Jalan rusak", codec="gsm")
    assert pre.applies(single) and len((await pre.prepare(r, single)).emit) == 1
    empty = message.build(provider="smpp", native_id="smpp:2", sender="6281234567890", recipient="1708",
                          data=b"#rahasia", codec="gsm")
    d = await pre.prepare(r, empty)
    assert d.emit == [] and d.skipped == "empty" and d.replies[0].address == "+6281234567890"
    empty.native_id = "smpp:2b"
    d = await pre.prepare(r, empty)  # the same number again within the hour: no second help text
    assert d.skipped == "empty" and d.replies == []
    anonymous = message.build(provider="smpp", native_id="smpp:3", sender="INFO", recipient="1708",
                              data=b"", codec="gsm")
    d = await pre.prepare(r, anonymous)
    assert d.skipped == "empty" and d.replies == []  # nobody to answer
