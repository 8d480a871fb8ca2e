"""``dispatcher.packed.call``: the raw reply redis-py would give, errors as redis-py raises them,
and a connection the server dropped is replaced (real redis-server)."""

from __future__ import annotations

import pytest
import redis
import redis.asyncio as aioredis

from dispatcher import packed


async def test_same_reply_as_redis_py_for_every_argument_type(r: aioredis.Redis) -> None:
    script = "return {ARGV[1], ARGV[2], ARGV[3], ARGV[4], #ARGV}"
    args = ("EVAL", script, 0, "teks é", b"\x00\xffbytes", 42, 2.5)
    assert await packed.call(r, *args) == await r.execute_command(*args)
    assert await packed.call(r, *args) == [b"teks \xc3\xa9", b"\x00\xffbytes", b"42", b"2.5", 4]
    assert await packed.call(r, "SET", "k", b"v", "EX", 60) == b"OK" and await r.get("k") == b"v"


async def test_errors_are_redis_py_errors_and_the_connection_stays_usable(r: aioredis.Redis) -> None:
    await r.set("str", "x")
    with pytest.raises(redis.exceptions.ResponseError):
        await packed.call(r, "HSET", "str", "f", "v")
    with pytest.raises(redis.exceptions.NoScriptError):
        await packed.call(r, "EVALSHA", "0" * 40, 0)
    assert await packed.call(r, "GET", "str") == b"x"


async def test_a_connection_the_server_dropped_is_replaced(r: aioredis.Redis, rsync: redis.Redis) -> None:
    assert await packed.call(r, "PING") == b"PONG"  # one pooled connection now
    killed = rsync.client_kill_filter(_type="normal", skipme=True)
    assert killed >= 1
    assert await packed.call(r, "INCR", "n") == 1  # the dead one failed, a fresh one answered
