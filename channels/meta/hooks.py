"""Dispatcher hook: edits and removals of Facebook/Instagram messages are filed, never new complaints.

The webhook stores an edit (``verb: edited``, Messenger ``message_edit``) or a removal
(``verb: remove``, an unsent IG message) as a message of its own with ``meta.revision``. Here it
is written to ``lapor:meta:rev:<channel>:<target native id>`` (a hash: revision native id →
JSON with the record id of the original, when we have it). An edit of a message whose record we
know also reaches the core as a record flagged ``edited`` (the latest text) with
``conversation.in_reply_to`` = that record, and no acknowledgement; anything else produces no
record. The hash write is idempotent, so a redelivery or a worker crash between the write and the
stream ACK does no harm (intake already made the edit's own record id idempotent).
"""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import redis.asyncio as aioredis

from channels.core.hooks import Decision, Emit, Preprocessor
from gateway import keys
from normalizer.models import InboundMessage, utc_iso
from normalizer.normalize import NormalizeContext

REVISION_TTL_S = 30 * 24 * 3600


def revision_key(channel: str, target: str) -> str:
    return f"{keys.PREFIX}meta:rev:{channel}:{target}"


class RevisionHook(Preprocessor):
    def applies(self, msg: InboundMessage) -> bool:
        return msg.channel in ("facebook", "instagram") and msg.meta.get("revision") in ("edit", "remove")

    async def prepare(self, r: aioredis.Redis, msg: InboundMessage) -> Decision:
        what = str(msg.meta["revision"])
        target = str(msg.meta.get("target") or "")
        original = await r.get(keys.idem(f"{msg.channel}:{target}"))
        doc = {
            "revision": what,
            "record_id": keys.text(original),
            "stream_record_id": msg.id,
            "text": msg.text if what == "edit" else None,
            "sent_at": utc_iso(msg.sent_at),
            "filed_at": utc_iso(datetime.now(UTC)),
        }
        key = revision_key(msg.channel, target)
        async with r.pipeline(transaction=True) as pipe:
            pipe.hset(key, msg.native_id, orjson.dumps(doc))
            pipe.expire(key, REVISION_TTL_S)
            await pipe.execute()
        record_id = doc["record_id"]
        if what == "edit" and isinstance(record_id, str) and record_id:
            msg.reply_to = None  # the citizen was answered for the original already
            return Decision(emit=[Emit([msg], NormalizeContext(in_reply_to=record_id))])
        return Decision(skipped=what)

