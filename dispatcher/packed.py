"""One Redis command with its arguments packed by hiredis in a single C call.

redis-py's packer encodes every argument in a Python generator (~0.25 µs each) before hiredis
sees it; a dispatch batch sends ~10 arguments per record (commit script, repeat counter), so that
is a few µs per record of the worker's CPU. Here the arguments (str, bytes, int, float) go to
``hiredis.pack_command`` as they are, on a connection of the client's own pool (Sentinel's
primary included). Only for idempotent commands: a connection error is retried once on a fresh
connection, as the client's retry would.
"""

from __future__ import annotations

from typing import Any

import hiredis
import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError


async def call(r: aioredis.Redis, *args: Any) -> Any:
    """``r.execute_command(*args)`` without response callbacks (the raw reply), args packed in C."""
    packed = hiredis.pack_command(args)
    for attempt in (1, 2):
        pool = r.connection_pool
        conn = await pool.get_connection()
        try:
            await conn.send_packed_command(packed)
            return await conn.read_response()
        except ResponseError:  # the whole reply was read: the connection is fine
            raise
        except (RedisConnectionError, RedisTimeoutError, OSError):
            await conn.disconnect()
            if attempt == 2:
                raise
        except BaseException:  # cancelled mid-reply: the connection's state is unknown
            await conn.disconnect()
            raise
        finally:
            await pool.release(conn)
    raise AssertionError("unreachable")
