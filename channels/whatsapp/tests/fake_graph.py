"""A local stand-in for the WhatsApp Cloud API that checks requests as Meta documents them.

- ``POST /v21.0/{phone-number-id}/messages`` with ``Authorization: Bearer <token>`` (wrong or
  missing ⇒ 401 ``OAuthException`` code 190, as Graph answers) and a JSON body of
  ``messaging_product: whatsapp``, ``recipient_type: individual``, exactly one of ``to`` (digits)
  or ``recipient`` (a business-scoped id), and one of the shapes ``text`` / ``interactive``
  ``location_request_message`` / ``template`` (optional ``context.message_id``); anything else
  ⇒ 400 code 100, kept in ``rejected``. Queued ``failures`` are answered first; a closed window
  (``closed`` holds the recipient) answers free text with 131047. Success:
  ``{"messaging_product", "contacts": [{"input", "wa_id"}], "messages": [{"id": "wamid.…"}]}``.
- ``GET /v21.0/{media-id}`` (Bearer) ⇒ ``{url, mime_type, sha256, file_size, id}``; the URL is
  ``/media/{media-id}`` here, served only with the same Bearer token.
"""

from __future__ import annotations

import hashlib
from typing import Any

from aiohttp import web

from tests.support.graph_fake import GraphFake


class FakeCloudAPI(GraphFake):
    def __init__(self, token: str, phone_number_id: str) -> None:
        super().__init__(token)
        self.phone_number_id = phone_number_id
        self.closed: set[str] = set()  # recipients whose 24-hour window is closed
        self.media: dict[str, tuple[bytes, str]] = {}  # media id -> (bytes, mime)
        self.media_gets: list[tuple[str, bool]] = []  # (path, authorized)
        self.lookups: list[str] = []  # media ids asked for (GET /{media-id})
        self.urls: dict[str, str] = {}  # media id -> the download URL to announce instead of ours

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/{version}/{node}/messages", self.messages)
        app.router.add_get("/media/{media_id}", self.download)
        app.router.add_get("/{version}/{media_id}", self.media_info)

    def _authorized(self, request: web.Request) -> bool:
        return request.headers.get("Authorization") == f"Bearer {self.token}"

    def _bad(self, why: str, body: Any = None) -> web.Response:
        return self._reject(f"(#100) {why}", body)

    async def messages(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            self.rejected.append(("token", None))
            return self._error(401, 190, "Invalid OAuth access token - Cannot parse access token")
        if request.match_info["node"] != self.phone_number_id:
            return self._bad(f"Object with ID '{request.match_info['node']}' does not exist")
        body, bad = await self._json_body(request)
        if bad is not None:
            return bad
        why = self._shape(body)
        if why:
            return self._bad(why, body)
        failure = self._queued_failure()
        if failure is not None:
            return failure
        to = body.get("to") or body.get("recipient")
        if to in self.closed and body["type"] != "template":
            return self._error(400, 131047, "Re-engagement message")
        self.calls.append(body)
        wamid = f"wamid.SENT{len(self.calls):04d}"
        return web.json_response({"messaging_product": "whatsapp", "contacts": [{"input": to, "wa_id": to}],
                                  "messages": [{"id": wamid}]})

    @staticmethod
    def _shape(body: Any) -> str | None:
        if not isinstance(body, dict):
            return "body is not an object"
        if body.get("messaging_product") != "whatsapp" or body.get("recipient_type") != "individual":
            return "messaging_product/recipient_type"
        has_to, has_recipient = "to" in body, "recipient" in body
        if has_to == has_recipient:
            return "exactly one of to/recipient"
        if has_to and not str(body["to"]).isdigit():
            return "to must be a phone number (a BSUID in to is dropped)"
        ctx = body.get("context")
        if ctx is not None and (set(ctx) != {"message_id"} or not str(ctx["message_id"]).startswith("wamid.")):
            return "context"
        kind = body.get("type")
        allowed = {"messaging_product", "recipient_type", "to", "recipient", "type", "context", kind}
        if set(body) - allowed:
            return f"unexpected fields {sorted(set(body) - allowed)}"
        if kind == "text":
            text = body.get("text")
            if not isinstance(text, dict) or not isinstance(text.get("body"), str) or not text["body"]:
                return "text.body"
            return "text.body over 4096" if len(text["body"]) > 4096 else None
        if kind == "interactive":
            inter = body.get("interactive") or {}
            if (inter.get("type") != "location_request_message" or inter.get("action") != {"name": "send_location"}
                    or not (inter.get("body") or {}).get("text")):
                return "interactive location_request_message"
            return None
        if kind == "template":
            tpl = body.get("template") or {}
            comps = tpl.get("components") or []
            if (not tpl.get("name") or not (tpl.get("language") or {}).get("code") or len(comps) != 1
                    or comps[0].get("type") != "body"):
                return "template name/language/components"
            for p in comps[0].get("parameters") or []:
                if p.get("type") != "text" or not p.get("text") or "\n" in p["text"] or "\t" in p["text"]:
                    return "template parameter (no new-line/tab)"
            return None
        return f"type {kind!r}"

    async def media_info(self, request: web.Request) -> web.Response:
        media_id = request.match_info["media_id"]
        self.lookups.append(media_id)
        if not self._authorized(request):
            return self._error(401, 190, "Invalid OAuth access token")
        if media_id not in self.media:
            return self._error(400, 100, f"Unsupported get request. Object with ID '{media_id}' does not exist")
        data, mime = self.media[media_id]
        url = self.urls.get(media_id, f"{self.root}/media/{media_id}")
        return web.json_response({"messaging_product": "whatsapp", "url": url,
                                  "mime_type": mime, "sha256": hashlib.sha256(data).hexdigest(),
                                  "file_size": len(data), "id": media_id})

    async def download(self, request: web.Request) -> web.Response:
        media_id = request.match_info["media_id"]
        ok = self._authorized(request)
        self.media_gets.append((request.path, ok))
        if not ok:
            return web.Response(status=401, text="unauthorized")
        if media_id not in self.media:
            return web.Response(status=404)
        data, mime = self.media[media_id]
        return web.Response(body=data, content_type=mime.split(";")[0])
