"""Dispatcher preprocessor for SMS: multipart reassembly, empty/keyword-only help replies.

Parts (``InboundMessage.part``) are stored as they arrive in a Redis hash per concatenated
message — key from (sender, recipient, ref, total), field = seq, first copy wins, so duplicated
parts are harmless — and each part's stream entry is acknowledged. When the set is complete,
ONE ``Emit`` carries every part in seq order: the first part gets the text decoded from the
*joined bytes* (UCS-2 surrogates and GSM escapes may straddle a cut), the others an empty
text, so the normalizer's join gives the whole message and ``source.message_ids`` lists every
part. Deleting the state and writing a "done" marker ride in ``Emit.extra``, i.e. in the same
MULTI as the core enqueue: a worker killed at any point leaves either the parts (picked up
again, the pending entry reclaimed) or the record, never neither. ``sweep`` emits sets still
incomplete after ``multipart_timeout_s``, flagged ``multipart_incomplete``; a part arriving
after its set was emitted becomes its own record, linked to that one, unless it is a copy of
a part already in it.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

import orjson
import redis.asyncio as aioredis

from channels.core.hooks import Decision, Emit, Preprocessor, Reply
from channels.sms import message
from channels.sms.keywords import HELP_TEXT, is_empty
from config.settings import Settings
from gateway import keys
from normalizer.context import NormalizeContext
from normalizer.models import InboundMessage

DUE = keys.SMS_MULTIPART_DUE  # zset: group key -> time its timeout expires


def group_id(msg: InboundMessage) -> str:
    assert msg.part is not None
    ident = f"{msg.provider}|{msg.sender.id}|{msg.recipient or ''}|{msg.part.ref}|{msg.part.total}"
    return hashlib.sha256(ident.encode()).hexdigest()[:24]


def parts_key(gid: str) -> str:
    return keys.sms_multipart(gid)


def done_key(gid: str) -> str:
    return keys.sms_multipart(gid, done=True)


def merge(parts: list[InboundMessage]) -> list[InboundMessage]:
    """Parts in seq order → messages whose joined text is the decoded whole."""
    parts = sorted(parts, key=lambda m: m.part.seq if m.part else 0)
    first = parts[0].model_copy(deep=True)
    codec = first.meta.get("sms", {}).get("codec", "gsm")
    data = b"".join(bytes.fromhex(p.meta.get("sms", {}).get("data", "")) for p in parts)
    first.flags = [f for f in first.flags if f != "decode_error"]
    first.confidential = first.anonymous = False
    message.apply_text(first, data, codec)
    for p in parts:
        for f in p.flags:
            if f != "decode_error" and f not in first.flags:
                first.flags.append(f)
    first.meta["parts"] = [p.part.seq for p in parts if p.part]
    rest = []
    for p in parts[1:]:
        q = p.model_copy(deep=True)
        q.text, q.body, q.flags, q.anonymous, q.confidential = "", None, [], False, False
        q.attachments = []
        rest.append(q)
    return [first, *rest]


def _same(stored: bytes | None, msg: InboundMessage) -> bool:
    """Is the stored copy of this seq the message itself (a retried entry after a crash)?"""
    if stored is None:
        return False
    return bool(orjson.loads(stored).get("id") == msg.id)


def help_reply(msg: InboundMessage) -> list[Reply]:
    if msg.reply_to is None:
        return []
    return [Reply(channel="sms", address=msg.reply_to.address, text=HELP_TEXT, provider=msg.provider,
                  thread=msg.reply_to.thread, meta={"recipient": msg.recipient, "reason": "empty"})]


# Run inside the MULTI of the core enqueue. Removes only the parts that went into the record: a
# part that arrived while a timed-out set was being emitted stays, is made due at once, and the
# next sweep emits it as its own record linked to this one (nothing is lost in that race).
_CLEANUP_LUA = """
for i = 5, #ARGV do redis.call('HDEL', KEYS[1], ARGV[i]) end
if redis.call('HLEN', KEYS[1]) == 0 then
  redis.call('ZREM', KEYS[2], ARGV[1])
else
  redis.call('ZADD', KEYS[2], ARGV[4], ARGV[1])
end
redis.call('SET', KEYS[3], ARGV[2], 'EX', ARGV[3])
return 1
"""


def _cleanup(gid: str, seqs: list[int], done: dict[str, Any], ttl: int) -> Any:
    def run(pipe: Any) -> None:
        pipe.eval(_CLEANUP_LUA, 3, parts_key(gid), DUE, done_key(gid), gid, orjson.dumps(done), ttl,
                  time.time(), *[str(x) for x in seqs])
    return run


class SmsPreprocessor(Preprocessor):
    def __init__(self, settings: Settings) -> None:
        self.timeout_s = settings.multipart_timeout_s
        # parts wait for the sweep; the TTL only collects garbage if no worker runs for days
        self.state_ttl_s = settings.multipart_timeout_s + settings.dedupe_ttl_s
        self.done_ttl_s = max(3600, settings.multipart_timeout_s * 6)
        self.help_every_s = settings.sms_help_every_s

    def applies(self, msg: InboundMessage) -> bool:
        return msg.channel == "sms"

    async def prepare(self, r: aioredis.Redis, msg: InboundMessage) -> Decision:
        if msg.part is None:
            if is_empty(msg.body if msg.body is not None else msg.text):
                return Decision(replies=await self._help(r, msg), skipped="empty")
            return Decision.single(msg)
        gid = group_id(msg)
        done_raw = await r.get(done_key(gid))
        if done_raw is not None:
            done = orjson.loads(done_raw)
            if msg.part.seq in done["seqs"]:
                return Decision(skipped="duplicate_part")
            # late part of a set already emitted as incomplete: its own record, linked to that one
            return Decision(emit=[self._late(gid, [msg], done)])
        key = parts_key(gid)
        async with r.pipeline(transaction=True) as pipe:
            pipe.hsetnx(key, str(msg.part.seq), msg.model_dump_json(exclude_none=True))
            pipe.expire(key, self.state_ttl_s)
            pipe.zadd(DUE, {gid: time.time() + self.timeout_s}, nx=True)
            pipe.hgetall(key)
            res = await pipe.execute()
        inserted, stored = bool(res[0]), res[-1]
        if not inserted and not _same(stored.get(str(msg.part.seq).encode()), msg):
            # another copy of a part we hold (SMSC redelivery under a new id): only the entry that
            # stored a part may complete the set, else one batch would emit the record twice
            return Decision(skipped="duplicate_part")
        if len(stored) < msg.part.total:
            return Decision()  # held: the entry is acknowledged, the part lives in the hash
        parts = [InboundMessage.model_validate_json(v) for v in stored.values()]
        return await self._finish(r, gid, parts, flags=[])

    async def _help(self, r: aioredis.Redis, msg: InboundMessage) -> list[Reply]:
        """The help text, at most once per number per ``sms_help_every_s``: the outbound limiter only
        counts acknowledgements, and a phone stuck sending empty SMS must not get a reply each."""
        replies = help_reply(msg)
        if replies and not await r.set(keys.sms_help_sent(replies[0].address), 1, nx=True, ex=self.help_every_s):
            return []
        return replies

    async def _finish(self, r: aioredis.Redis, gid: str, parts: list[InboundMessage], flags: list[str]
                      ) -> Decision:
        merged = merge(parts)
        first = merged[0]
        assert first.id is not None
        seqs = [p.part.seq for p in merged if p.part]
        cleanup = _cleanup(gid, seqs, {"seqs": seqs, "record": first.id}, self.done_ttl_s)
        if not flags and is_empty(first.body if first.body is not None else first.text):
            # keyword-only: no record. The done marker makes a reclaimed copy of the last part a
            # duplicate, so removing the state before the entry's XACK is safe.
            async with r.pipeline(transaction=True) as pipe:
                cleanup(pipe)
                await pipe.execute()
            return Decision(replies=await self._help(r, first), skipped="empty")
        return Decision(emit=[Emit(merged, NormalizeContext(extra_flags=list(flags)), [cleanup])])

    async def sweep(self, r: aioredis.Redis) -> list[Emit]:
        now = time.time()
        due = await r.zrangebyscore(DUE, 0, now, start=0, num=50)
        emits: list[Emit] = []
        for raw_gid in due:
            gid = raw_gid.decode() if isinstance(raw_gid, bytes) else str(raw_gid)
            stored = await r.hgetall(parts_key(gid))
            if not stored:
                await r.zrem(DUE, gid)
                continue
            parts = [InboundMessage.model_validate_json(v) for v in stored.values()]
            done_raw = await r.get(done_key(gid))
            if done_raw is not None:  # left over from a set already emitted
                done = orjson.loads(done_raw)
                late = [p for p in parts if p.part and p.part.seq not in done["seqs"]]
                if late:
                    emits.append(self._late(gid, late, done))
                else:
                    async with r.pipeline(transaction=True) as pipe:
                        _cleanup(gid, [p.part.seq for p in parts if p.part], done, self.done_ttl_s)(pipe)
                        await pipe.execute()
                continue
            total = parts[0].part.total if parts[0].part else len(parts)
            flags = [] if len(parts) >= total else ["multipart_incomplete"]
            emits.extend((await self._finish(r, gid, parts, flags)).emit)
        return emits

    def _late(self, gid: str, parts: list[InboundMessage], done: dict[str, Any]) -> Emit:
        seqs = [p.part.seq for p in parts if p.part]
        marker = {"seqs": sorted({*done["seqs"], *seqs}), "record": done["record"]}
        return Emit(merge(parts), NormalizeContext(in_reply_to=done["record"], extra_flags=["multipart_incomplete"]),
                    [_cleanup(gid, seqs, marker, self.done_ttl_s)])
