"""A local stand-in for the Graph API's Send API that checks requests as Meta documents them.

``POST /<version>/{page-id|me}/messages?access_token=…`` with a JSON body of exactly
``recipient`` (one of ``id``, ``comment_id``, ``post_id``), ``messaging_type`` and
``message.text``. Wrong token ⇒ 400 ``OAuthException`` code 190, as Graph answers; any other
deviation ⇒ 400 code 100 and the request lands in ``rejected`` so tests can assert on it.
Queued ``failures`` are answered first (to test 429/5xx handling).

Also ``GET /<version>/{ig-user-id}?fields=mentioned_comment.comment_id(<id>){…}`` (and
``mentioned_media.media_id(<id>){…}``) from ``mentions``/``media``, and ``GET /cdn/<name>`` for
attachment bytes from ``files``.
"""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web

from tests.support.graph_fake import GraphFake


class FakeGraph(GraphFake):
    def __init__(self, token: str, page_id: str, ig_user_id: str = "17841400000000000") -> None:
        super().__init__(token)
        self.page_id = page_id
        self.ig_user_id = ig_user_id
        self.mentions: dict[str, dict[str, Any]] = {}  # comment id -> {text, username, timestamp}
        self.media: dict[str, dict[str, Any]] = {}  # media id -> {caption, media_type, media_url, ...}
        self.files: dict[str, tuple[bytes, str]] = {}  # name -> (bytes, content type)
        self.gets: list[str] = []

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/{version}/{node}/messages", self.messages)
        app.router.add_get("/cdn/{name}", self.cdn)
        app.router.add_get("/{version}/{node}", self.node)

    def _bad(self, why: str, body: Any = None, code: int = 100) -> web.Response:
        return self._reject(why, body, code)

    async def messages(self, request: web.Request) -> web.Response:
        if request.query.get("access_token") != self.token:
            return self._bad("Invalid OAuth access token - Cannot parse access token", code=190)
        node = request.match_info["node"]
        if node not in (self.page_id, "me"):
            return self._bad(f"Unsupported post request. Object with ID '{node}' does not exist")
        body, bad = await self._json_body(request)
        if bad is not None:
            return bad
        tagged = isinstance(body, dict) and body.get("messaging_type") == "MESSAGE_TAG"
        expected = {"recipient", "messaging_type", "message"} | ({"tag"} if tagged else set())
        if not isinstance(body, dict) or set(body) != expected:
            return self._bad("expected exactly recipient, messaging_type, message (and tag with MESSAGE_TAG)", body)
        if tagged and body["tag"] not in ("HUMAN_AGENT", "ACCOUNT_UPDATE", "CONFIRMED_EVENT_UPDATE",
                                          "POST_PURCHASE_UPDATE"):
            return self._bad("(#100) unknown message tag", body)
        rcpt = body["recipient"]
        if (not isinstance(rcpt, dict) or len(rcpt) != 1 or next(iter(rcpt)) not in ("id", "comment_id", "post_id")
                or not isinstance(next(iter(rcpt.values())), str) or not next(iter(rcpt.values()))):
            return self._bad("(#100) recipient must be one of id, comment_id, post_id", body)
        if body["messaging_type"] not in ("RESPONSE", "MESSAGE_TAG"):
            return self._bad("(#100) messaging_type must be RESPONSE (or MESSAGE_TAG) for an answer", body)
        msg = body["message"]
        if not isinstance(msg, dict) or set(msg) != {"text"} or not isinstance(msg["text"], str) \
                or not msg["text"].strip() or len(msg["text"]) > 2000:
            return self._bad("(#100) message.text must be 1..2000 characters", body)
        failure = self._queued_failure()
        if failure is not None:
            return failure
        self.calls.append({"node": node, "body": body})
        return web.json_response({"recipient_id": next(iter(rcpt.values())), "message_id": f"m_sent{len(self.calls)}"})

    async def cdn(self, request: web.Request) -> web.Response:
        found = self.files.get(request.match_info["name"])
        if found is None:
            return web.Response(status=404)
        return web.Response(body=found[0], content_type=found[1])

    async def node(self, request: web.Request) -> web.Response:
        if request.query.get("access_token") != self.token:
            return self._bad("Invalid OAuth access token - Cannot parse access token", code=190)
        if request.match_info["node"] != self.ig_user_id:
            return self._bad(f"Object with ID '{request.match_info['node']}' does not exist")
        fields = request.query.get("fields", "")
        m = re.fullmatch(r"(mentioned_comment)\.comment_id\((\d+)\)\{([a-z_,]+)\}"
                         r"|(mentioned_media)\.media_id\((\d+)\)\{([a-z_,]+)\}", fields)
        if m is None:
            return self._bad(f"(#100) unsupported fields {fields!r}")
        edge, oid, wanted = (m.group(1), m.group(2), m.group(3)) if m.group(1) else (m.group(4), m.group(5), m.group(6))
        self.gets.append(fields)
        source = (self.mentions if edge == "mentioned_comment" else self.media).get(oid)
        if source is None:
            return self._bad("(#100) Invalid parameter")
        doc = {k: v for k, v in source.items() if k in wanted.split(",")}
        return web.json_response({edge: {**doc, "id": oid}, "id": self.ig_user_id})
