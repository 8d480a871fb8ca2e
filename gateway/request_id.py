"""A request id for every HTTP request: in every log line of the request and in the answer.

The id comes from ``X-Request-ID`` when a trusted proxy set it (so proxy and gateway logs join),
otherwise it is generated. It lives in a context variable that a logging processor reads
(``gateway.logging.add_request_id``), so any ``log.*`` call made while the request is handled
carries ``request_id`` without passing it around; intake stamps it on the stored message
(``meta.request_id``) and the channel log shows it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.typedefs import Middleware

from gateway.logging import REQUEST_ID
from gateway.proxy import TrustedProxies

HEADER = "X-Request-ID"
_VALID = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")
current = REQUEST_ID  # read by intake (meta.request_id) and the channel log

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def new_request_id() -> str:
    return os.urandom(12).hex()


def request_id_middleware(proxies: TrustedProxies) -> Middleware:
    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        rid = None
        if proxies.networks:  # a sent id is believed only from a trusted proxy
            sent = request.headers.get(HEADER, "")
            if sent and _VALID.match(sent):
                peer = request.transport.get_extra_info("peername") if request.transport else None
                if peer and proxies.trusts(peer[0] if isinstance(peer, tuple | list) else None):
                    rid = sent
        if rid is None:
            rid = new_request_id()
        token = current.set(rid)
        try:
            response = await handler(request)
        except web.HTTPException as exc:  # redirects and errors raised as exceptions carry it too
            exc.headers[HEADER] = rid
            raise
        finally:
            current.reset(token)
        if not response.prepared:
            response.headers[HEADER] = rid
        return response

    return middleware
