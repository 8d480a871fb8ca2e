"""The ceiling for any durable webhook on this stack: an aiohttp handler doing one awaited XADD
(on uvloop, like the gateway)."""

from __future__ import annotations

import asyncio
import sys

import redis.asyncio as aioredis
import uvloop
from aiohttp import web


def main() -> None:
    port, redis_url = int(sys.argv[1]), sys.argv[2]
    r = aioredis.Redis.from_url(redis_url)

    async def handler(request: web.Request) -> web.Response:
        body = await request.read()
        await r.xadd("bench:bare", {"msg": body})
        return web.json_response({"status": "accepted"}, status=202)

    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    app = web.Application()
    app.router.add_post("/bare", handler)
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)


if __name__ == "__main__":
    main()
