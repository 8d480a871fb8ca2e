"""A TLS-terminating reverse proxy for tests, run as its own process (like nginx in front of the gateway).

    python -m tests.support.tls_proxy PORT BACKEND_URL CERT KEY

It serves https on 127.0.0.1:PORT and forwards each request to BACKEND_URL the way common
proxies do: appends the peer address to ``X-Forwarded-For`` and sets ``X-Forwarded-Proto: https``
and ``X-Forwarded-Host`` (the Host the client asked for). Bodies, status, headers (all
``Set-Cookie`` lines) pass through unchanged; redirects are not followed.
"""

from __future__ import annotations

import asyncio
import ssl
import sys

import aiohttp
from aiohttp import web

HOP = {"connection", "keep-alive", "transfer-encoding", "upgrade", "proxy-connection", "te", "trailer",
       "content-length", "host"}


def make_app(backend: str) -> web.Application:
    app = web.Application(client_max_size=64 * 1024 * 1024)

    async def on_startup(app: web.Application) -> None:
        app["session"] = aiohttp.ClientSession(auto_decompress=False, cookie_jar=aiohttp.DummyCookieJar())

    async def on_cleanup(app: web.Application) -> None:
        await app["session"].close()

    async def forward(request: web.Request) -> web.StreamResponse:
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP}
        peer = request.transport.get_extra_info("peername")[0] if request.transport else ""
        prior = request.headers.get("X-Forwarded-For")
        headers["X-Forwarded-For"] = f"{prior}, {peer}" if prior else peer
        headers["X-Forwarded-Proto"] = "https"
        headers["X-Forwarded-Host"] = request.headers.get("Host", "")
        body = await request.read()
        async with app["session"].request(request.method, backend + request.path_qs, headers=headers,
                                          data=body or None, allow_redirects=False) as resp:
            out = web.Response(status=resp.status, body=await resp.read())
            for k, v in resp.headers.items():
                if k.lower() not in HOP:
                    out.headers.add(k, v)
            return out

    app.router.add_route("*", "/{tail:.*}", forward)
    app.on_startup.append(on_startup)
    app.on_cleanup.append(on_cleanup)
    return app


def main() -> None:
    port, backend, cert, key = int(sys.argv[1]), sys.argv[2].rstrip("/"), sys.argv[3], sys.argv[4]
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    web.run_app(make_app(backend), host="127.0.0.1", port=port, ssl_context=ctx, print=None,
                access_log=None, handle_signals=True)


if __name__ == "__main__":
    asyncio.set_event_loop_policy(None)
    main()
