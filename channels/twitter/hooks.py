"""X threads: a citizen's run of self-replies is one complaint, nothing held back.

The first tweet becomes a record at once. A tweet that replies to the same author's earlier
tweet which we already know — or to our acknowledgement of that author's report — becomes a
record flagged ``follow_up`` whose ``conversation.in_reply_to`` is the first record's id.
State in Redis: tweet id → id of the thread's first record (``lapor:twitter:thread:<id>``),
first record → author, our ack tweet → record (written by the sender); written while deciding — the
mapping is deterministic (the record id was fixed at intake), so writing it before the
commit is safe when the entry is retried, and later entries of the same batch already see it.

A continuation gets no acknowledgement of its own (``reply_to`` dropped): the citizen already
got the thread's reference on the first tweet; the core reaches them through that record.
"""

from __future__ import annotations

import redis.asyncio as aioredis

from channels.core.hooks import Decision, Emit, Preprocessor
from gateway import keys
from normalizer.models import InboundMessage
from normalizer.normalize import NormalizeContext

THREAD_TTL_S = 30 * 24 * 3600


def thread_key(tweet_id: str) -> str:
    """A citizen's tweet → id of the first record of its thread."""
    return keys.twitter_thread(tweet_id)


def ack_key(tweet_id: str) -> str:
    """Our acknowledgement tweet → the record it acknowledged (written by the sender)."""
    return keys.twitter_ack(tweet_id)


def author_key(record_id: str) -> str:
    """A thread's first record → the X user id of its author."""
    return keys.twitter_author(record_id)


class ThreadLinker(Preprocessor):
    """Dispatcher preprocessor for tweets (not DMs)."""

    def __init__(self, ttl_s: int = THREAD_TTL_S) -> None:
        self.ttl_s = ttl_s

    def applies(self, msg: InboundMessage) -> bool:
        return msg.channel == "twitter" and msg.kind in ("mention", "reply")

    async def _root(self, r: aioredis.Redis, msg: InboundMessage) -> str | None:
        """The first record this tweet continues, if any."""
        parent = msg.parent_message_id  # the tweet this one replies to (X's id, not a record id)
        if parent is None:
            return None
        if msg.meta.get("in_reply_to_user_id") == msg.sender.id:  # a self-reply: the citizen's thread
            return keys.text(await r.get(thread_key(parent)))
        # the citizen answering our acknowledgement of their own report
        root = keys.text(await r.get(ack_key(parent)))
        if root is not None and keys.text(await r.get(author_key(root))) == msg.sender.id:
            return root
        return None

    async def prepare(self, r: aioredis.Redis, msg: InboundMessage) -> Decision:
        assert msg.id is not None, "stamped by intake"
        root = await self._root(r, msg)
        if root is None or root == msg.id:
            async with r.pipeline(transaction=False) as pipe:
                pipe.set(thread_key(msg.native_id), msg.id, ex=self.ttl_s)
                pipe.set(author_key(msg.id), msg.sender.id, ex=self.ttl_s)
                await pipe.execute()
            return Decision.single(msg)
        await r.set(thread_key(msg.native_id), root, ex=self.ttl_s)
        msg.reply_to = None
        return Decision(emit=[Emit([msg], NormalizeContext(in_reply_to=root, extra_flags=["follow_up"]))])

