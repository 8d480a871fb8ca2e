"""Base for the fake provider APIs of the tests: an aiohttp app on 127.0.0.1:<free port>.

A fake declares its routes; starting, the URL and stopping are the same for every one."""

from __future__ import annotations

from typing import Self

from aiohttp import web


class LoopbackServer:
    url: str = ""

    def routes(self, app: web.Application) -> None:
        raise NotImplementedError

    async def start(self) -> Self:
        app = web.Application()
        self.routes(app)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}"
        return self

    async def stop(self) -> None:
        runner = getattr(self, "_runner", None)
        if runner is not None:
            await runner.cleanup()
