"""Context enrichers: what the dispatcher looks up in Redis before normalizing (the normalizer
itself stays pure). Each enricher is ``async (redis, emits) -> None`` over a whole dispatch
batch (so it can use one pipeline for all of them) and may fill each ``emit.ctx`` (e.g. how
often the same sender sent the same text recently)."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Awaitable, Callable
from typing import Any

import redis
import redis.asyncio as aioredis

from channels.core.hooks import Emit
from dispatcher import packed
from gateway.keys import PREFIX
from normalizer import spam, topics
from normalizer.text import fold

Enricher = Callable[[aioredis.Redis, list[Emit]], Awaitable[None]]

REPEAT_PREFIX = PREFIX + "repeat:"

# KEYS: one sorted set per record; ARGV: now, window_s, ttl_s, then one member per key.
# Returns the count per key after adding its member (sequential, so a repeat within one batch counts).
_REPEAT_LUA = """
local now = tonumber(ARGV[1])
local cutoff = now - tonumber(ARGV[2])
local ttl = tonumber(ARGV[3])
local out = {}
for i, key in ipairs(KEYS) do
  redis.call('ZREMRANGEBYSCORE', key, '-inf', cutoff)
  redis.call('ZADD', key, 'NX', ARGV[1], ARGV[3 + i])
  out[i] = redis.call('ZCARD', key)
  redis.call('EXPIRE', key, ttl)
end
return out
"""


_REPEAT_SHA = hashlib.sha1(_REPEAT_LUA.encode()).hexdigest()


def repeat_key(sender: str, text: str) -> str:
    """One sorted set per (sender, folded text); the sender is hashed so no phone number sits in a key."""
    return _repeat_key(sender, spam.fingerprint(text))


def _repeat_key(sender: str, fingerprint: str) -> str:
    who = hashlib.blake2b(sender.encode(), digest_size=10).hexdigest()
    return f"{REPEAT_PREFIX}{who}:{fingerprint}"


def _fingerprint(words: list[str]) -> str:
    """``spam.fingerprint`` of the text these ``spam.fingerprint_words`` came from, without folding
    and tokenizing the text a second time (tests/normalizer/test_enrich.py checks they agree)."""
    return hashlib.blake2b(" ".join(words).encode(), digest_size=12).hexdigest()


# every byte that is not [0-9a-z] becomes a space: on ASCII text, ``split()`` then yields exactly the
# words ``spam.fingerprint_words`` finds with its ``[0-9a-z]+`` pattern, at a fifth of the CPU
_NOT_WORD = bytes(c if 48 <= c <= 57 or 97 <= c <= 122 else 32 for c in range(256))


def text_fingerprint(text: str) -> str | None:
    """``spam.fingerprint(text)``, or None when the text has no words (media only, emoji)."""
    folded = fold(text)
    if folded.isascii():
        words = folded.encode("ascii").translate(_NOT_WORD).split()
        return hashlib.blake2b(b" ".join(words), digest_size=12).hexdigest() if words else None
    found = spam.fingerprint_words(text)  # accents, other scripts: the pattern decides what a word is
    return _fingerprint(found) if found else None


def repeat_counter(window_s: int, threshold: int) -> Enricher:
    """Count the same text from the same sender within ``window_s`` (sliding) into ``ctx.repeat_count``.

    Members are record ids, so a message the dispatcher retries after a crash is not counted
    twice; the set expires with the window so idle senders leave nothing behind.
    """

    async def enrich(r: aioredis.Redis, emits: list[Emit]) -> None:
        counted: list[Emit] = []
        repeat_keys: list[str] = []
        now = time.time()
        argv: list[Any] = [repr(now), window_s, window_s + 60]
        for emit in emits:
            emit.ctx.repeat_threshold = threshold
            if not emit.messages:
                continue
            first = emit.messages[0]
            if len(emit.messages) == 1:
                text = first.body if first.body is not None else first.text
            else:
                text = "".join(m.body if m.body is not None else m.text for m in emit.messages)
            fingerprint = text_fingerprint(text)
            if fingerprint is None:
                continue  # media only / empty: nothing to compare
            repeat_keys.append(_repeat_key(f"{first.sender.kind}:{first.sender.id}", fingerprint))
            argv.append(first.id or first.idempotency_key)
            counted.append(emit)
        if not counted:
            return
        # one script call for the whole batch (was 4 commands per record); no MULTI needed:
        # a count that interleaves with another worker is still a fair count
        try:
            counts: Any = await packed.call(r, "EVALSHA", _REPEAT_SHA, len(repeat_keys), *repeat_keys, *argv)
        except redis.exceptions.NoScriptError:
            counts = await packed.call(r, "EVAL", _REPEAT_LUA, len(repeat_keys), *repeat_keys, *argv)
        for emit, count in zip(counted, counts, strict=True):
            emit.ctx.repeat_count = int(count)

    return enrich


def default_enrichers(settings: Any) -> list[Enricher]:
    # the dispatcher builds its enrichers once at start: load and validate the topic rules here so
    # a broken config/topics.yaml stops the worker with a clear message instead of failing per record
    topics.use_rules(topics.load_rules(settings.rules_file))
    return [repeat_counter(settings.spam_window_s, settings.spam_repeat_threshold)]
