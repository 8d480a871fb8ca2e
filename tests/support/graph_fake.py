"""Base for the fake Graph APIs (Messenger/Instagram Send API, WhatsApp Cloud API).

Both sit under ``/<version>/``, answer errors in Graph's ``OAuthException`` shape, check the
``/messages`` request line the same way, and keep the accepted calls, the rejected requests and
a queue of canned ``failures`` (answered first, to test 429/5xx handling)."""

from __future__ import annotations

import asyncio
from typing import Any, Self

from aiohttp import web

from tests.support.loopback import LoopbackServer

VERSION = "v21.0"


class GraphFake(LoopbackServer):
    def __init__(self, token: str) -> None:
        self.token = token
        self.calls: list[Any] = []  # accepted sends
        self.rejected: list[tuple[str, Any]] = []
        self.failures: list[tuple[int, dict[str, Any], dict[str, str]]] = []
        self.root = ""

    async def start(self) -> Self:
        await super().start()
        self.root = self.url
        self.url = f"{self.root}/{VERSION}"
        return self

    async def wait_calls(self, n: int, timeout: float = 15.0) -> list[Any]:
        deadline = asyncio.get_running_loop().time() + timeout
        while len(self.calls) < n and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.05)
        return self.calls

    @staticmethod
    def _error(status: int, code: int, message: str) -> web.Response:
        return web.json_response({"error": {"message": message, "type": "OAuthException", "code": code,
                                            "fbtrace_id": "Afake"}}, status=status)

    def _reject(self, why: str, body: Any = None, code: int = 100) -> web.Response:
        self.rejected.append((why, body))
        return self._error(400, code, why)

    async def _json_body(self, request: web.Request) -> tuple[Any, web.Response | None]:
        """The request's JSON body, or the 400 for a wrong version, content type or body."""
        if request.match_info["version"] != VERSION:
            return None, self._bad(f"unknown version {request.match_info['version']}")
        if request.content_type != "application/json":
            return None, self._bad(f"content type {request.content_type}")
        try:
            return await request.json(), None
        except ValueError:
            return None, self._bad("body is not JSON")

    def _bad(self, why: str, body: Any = None) -> web.Response:
        return self._reject(why, body)

    def _queued_failure(self) -> web.Response | None:
        if not self.failures:
            return None
        status, doc, headers = self.failures.pop(0)
        return web.json_response(doc, status=status, headers=headers)
