"""Local fake alert sinks: a webhook receiver and a Telegram Bot API, both aiohttp on loopback."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from tests.support.loopback import LoopbackServer


class FakeSink(LoopbackServer):
    """Records what it receives; checks the requests the way the real endpoints document them."""

    def __init__(self, bot_token: str = "123456:TEST-telegram-token") -> None:
        self.webhook: list[dict[str, Any]] = []
        self.telegram: list[dict[str, Any]] = []
        self.bot_token = bot_token
        self.url = ""
        self.fail_webhook = False

    async def _webhook(self, request: web.Request) -> web.Response:
        if request.content_type != "application/json":
            return web.Response(status=415)
        if self.fail_webhook:
            return web.Response(status=500)
        self.webhook.append(await request.json())
        return web.Response(status=204)

    async def _send_message(self, request: web.Request) -> web.Response:
        # Bot API: POST https://api.telegram.org/bot<token>/sendMessage, chat_id and text required
        if request.match_info["token"] != self.bot_token:
            return web.json_response({"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401)
        doc = await request.json() if request.content_type == "application/json" else dict(await request.post())
        if not doc.get("chat_id") or not doc.get("text"):
            return web.json_response({"ok": False, "error_code": 400,
                                      "description": "Bad Request: message text is empty"}, status=400)
        self.telegram.append(doc)
        return web.json_response({"ok": True, "result": {"message_id": len(self.telegram),
                                                         "chat": {"id": doc["chat_id"]}, "text": doc["text"]}})

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/alert", self._webhook)
        app.router.add_post("/bot{token}/sendMessage", self._send_message)

