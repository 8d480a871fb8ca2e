"""A local fake of the X API v2 (aiohttp on 127.0.0.1) that checks requests as X documents them.

- ``GET /2/users/:id/mentions``: app-only ``Authorization: Bearer``; ``expansions`` /
  ``tweet.fields`` / ``user.fields`` / ``media.fields`` / ``place.fields`` only with documented
  values (X answers 400 otherwise); ``max_results`` 5–100; ``since_id`` / ``pagination_token``;
  newest first, ``meta`` with ``newest_id`` / ``oldest_id`` / ``result_count`` / ``next_token``;
  ``includes`` for the page only.
- ``POST /2/tweets``, ``POST /2/dm_conversations/with/:id/messages``, ``GET /2/tweets/:id``:
  OAuth 1.0a user context, HMAC-SHA1 signature verified with oauthlib over the request as
  received (method, URL, query, oauth params).
- ``activity``: one span per mentions call, with the client named by ``activity.who`` when a test
  sets it (which process polls).
- ``script``: responses to play, in order, instead of the normal answer (429 with reset, 401,
  503, …; ``None`` = answer that call normally).
"""

from __future__ import annotations

import asyncio
import hmac
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

from aiohttp import web
from oauthlib.oauth1.rfc5849 import signature, utils

from tests.support.activity import Activity
from tests.support.loopback import LoopbackServer

TWEET_FIELDS = {"article", "attachments", "author_id", "card_uri", "community_id", "context_annotations",
                "conversation_id", "created_at", "display_text_range", "edit_controls", "edit_history_tweet_ids",
                "entities", "geo", "id", "in_reply_to_user_id", "lang", "media_metadata", "non_public_metrics",
                "note_tweet", "organic_metrics", "possibly_sensitive", "promoted_metrics", "public_metrics",
                "referenced_tweets", "reply_settings", "scopes", "source", "text", "withheld"}
EXPANSIONS = {"article.cover_media", "article.media_entities", "attachments.media_keys",
              "attachments.media_source_tweet", "attachments.poll_ids", "author_id", "edit_history_tweet_ids",
              "entities.mentions.username", "geo.place_id", "in_reply_to_user_id", "entities.note.mentions.username",
              "referenced_tweets.id", "referenced_tweets.id.attachments.media_keys", "referenced_tweets.id.author_id"}
USER_FIELDS = {"affiliation", "connection_status", "created_at", "description", "entities", "id", "location",
               "most_recent_tweet_id", "name", "pinned_tweet_id", "profile_banner_url", "profile_image_url",
               "protected", "public_metrics", "receives_your_dm", "subscription_type", "url", "username",
               "verified", "verified_type", "withheld"}
MEDIA_FIELDS = {"alt_text", "duration_ms", "height", "media_key", "non_public_metrics", "organic_metrics",
                "preview_image_url", "promoted_metrics", "public_metrics", "type", "url", "variants", "width"}
PLACE_FIELDS = {"contained_within", "country", "country_code", "full_name", "geo", "id", "name", "place_type"}
FIELD_SETS = {"tweet.fields": TWEET_FIELDS, "expansions": EXPANSIONS, "user.fields": USER_FIELDS,
              "media.fields": MEDIA_FIELDS, "place.fields": PLACE_FIELDS}


@dataclass
class Scripted:
    status: int
    body: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Creds:
    bearer: str = "test-x-bearer"
    consumer_key: str = "test-x-consumer-key"
    consumer_secret: str = "test-x-consumer-secret"
    access_token: str = "2818371708-test-access-token"
    access_token_secret: str = "test-x-access-secret"


def _problem(status: int, title: str, detail: str) -> web.Response:
    return web.json_response({"title": title, "detail": detail, "type": "about:blank", "status": status},
                             status=status)


class FakeX(LoopbackServer):
    def __init__(self, user_id: str = "2818371708", creds: Creds | None = None) -> None:
        self.user_id = user_id
        self.creds = creds or Creds()
        self.timeline: list[dict[str, Any]] = []  # newest first, as X serves them
        self.includes: dict[str, list[dict[str, Any]]] = {}
        self.script: dict[str, list[Scripted | None]] = {"mentions": [], "tweets": [], "dm": [], "lookup": []}
        self.log: list[dict[str, Any]] = []
        self.tweets: list[dict[str, Any]] = []
        self.dms: list[dict[str, Any]] = []
        self.rate_headers: dict[str, str] = {}
        self.reachable = 800  # X serves only the latest 800 mentions
        self.on_mentions: Callable[[], None] | None = None  # test hook, run before answering
        self.delay_s = 0.0  # a slow X: each mentions page takes this long
        self.activity = Activity()  # observation: one span per mentions call
        self.url = ""

    # ------------------------------------------------------------------ lifecycle
    def routes(self, app: web.Application) -> None:
        app.router.add_get("/2/users/{id}/mentions", self.mentions)
        app.router.add_get("/2/users/by/username/{username}", self.user_by_name)
        app.router.add_post("/2/tweets", self.create_tweet)
        app.router.add_get("/2/tweets/{id}", self.get_tweet)
        app.router.add_post("/2/dm_conversations/with/{participant}/messages", self.create_dm)


    def load(self, doc: dict[str, Any]) -> None:
        self.timeline = sorted(doc["data"], key=lambda t: int(t["id"]), reverse=True)
        self.includes = doc.get("includes", {})

    def add(self, tweets: list[dict[str, Any]], includes: dict[str, list[dict[str, Any]]] | None = None) -> None:
        """New mentions arrive (newest first overall)."""
        self.timeline = sorted(self.timeline + tweets, key=lambda t: int(t["id"]), reverse=True)
        for k, v in (includes or {}).items():
            self.includes.setdefault(k, []).extend(v)

    def calls(self, what: str) -> list[dict[str, Any]]:
        return [e for e in self.log if e["what"] == what]

    # ------------------------------------------------------------------ auth
    def _bearer_ok(self, request: web.Request) -> bool:
        header = request.headers.get("Authorization", "")
        return header.startswith("Bearer ") and hmac.compare_digest(header[7:], self.creds.bearer)

    def _oauth1_ok(self, request: web.Request) -> bool:
        header = request.headers.get("Authorization", "")
        if not header.startswith("OAuth "):
            return False
        params = {k: utils.unescape(v) for k, v in utils.parse_authorization_header(header)}
        if (params.get("oauth_consumer_key") != self.creds.consumer_key
                or params.get("oauth_token") != self.creds.access_token
                or params.get("oauth_signature_method") != "HMAC-SHA1"
                or abs(int(params.get("oauth_timestamp", "0")) - time.time()) > 300
                or not params.get("oauth_nonce")):
            return False
        oauth = [(k, v) for k, v in params.items() if k not in ("oauth_signature", "realm")]
        norm = signature.normalize_parameters(list(request.query.items()) + oauth)
        base = signature.signature_base_string(request.method, signature.base_string_uri(str(request.url)), norm)
        keys = SimpleNamespace(client_secret=self.creds.consumer_secret,
                               resource_owner_secret=self.creds.access_token_secret)
        expected = signature.sign_hmac_sha1_with_client(base, keys)
        return hmac.compare_digest(expected, params.get("oauth_signature", ""))

    def _scripted(self, what: str) -> web.Response | None:
        if self.script[what]:
            s = self.script[what].pop(0)
            if s is not None:  # None: answer this call normally
                return web.json_response(s.body, status=s.status, headers=s.headers)
        return None

    # ------------------------------------------------------------------ mentions
    async def mentions(self, request: web.Request) -> web.Response:
        transport = request.transport
        span = self.activity.begin(transport.get_extra_info("peername") if transport else None,
                                   transport.get_extra_info("sockname") if transport else None)
        try:
            return await self._mentions(request)
        finally:
            self.activity.end(span)

    async def _mentions(self, request: web.Request) -> web.Response:
        q = request.query
        self.log.append({"what": "mentions", "query": dict(q), "at": time.time(),
                         "auth": request.headers.get("Authorization", "")})
        if not self._bearer_ok(request):
            return _problem(401, "Unauthorized", "Unauthorized")
        if self.on_mentions is not None:
            self.on_mentions()
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        scripted = self._scripted("mentions")
        if scripted is not None:
            return scripted
        if request.match_info["id"] != self.user_id:
            return _problem(404, "Not Found Error", "Could not find user")
        for name, allowed in FIELD_SETS.items():
            for value in filter(None, q.get(name, "").split(",")):
                if value not in allowed:
                    return web.json_response({"errors": [{"parameters": {name: [value]},
                                                          "message": f"The `{name}` query parameter value [{value}] "
                                                                     "is not one of [...]"}],
                                              "title": "Invalid Request", "status": 400}, status=400)
        try:
            max_results = int(q.get("max_results", "10"))
        except ValueError:
            return _problem(400, "Invalid Request", "max_results must be a number")
        if not 5 <= max_results <= 100:
            return _problem(400, "Invalid Request", "max_results must be between 5 and 100")
        tweets = self.timeline
        if "since_id" in q:
            tweets = [t for t in tweets if int(t["id"]) > int(q["since_id"])]
        if "start_time" in q:
            try:
                start = datetime.strptime(q["start_time"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
            except ValueError:
                return _problem(400, "Invalid Request", "start_time must be YYYY-MM-DDTHH:mm:ssZ")
            tweets = [t for t in tweets if "created_at" in t and
                      datetime.fromisoformat(t["created_at"].replace("Z", "+00:00")) >= start]
        tweets = tweets[:self.reachable]
        offset = 0
        if "pagination_token" in q:
            token = q["pagination_token"]
            if not token.startswith("pt-"):
                return _problem(400, "Invalid Request", "invalid pagination_token")
            offset = int(token[3:])
        page = tweets[offset:offset + max_results]
        meta: dict[str, Any] = {"result_count": len(page)}
        if page:
            meta.update(newest_id=page[0]["id"], oldest_id=page[-1]["id"])
        if offset + max_results < len(tweets):
            meta["next_token"] = f"pt-{offset + max_results}"
        doc: dict[str, Any] = {"meta": meta}
        if page:
            doc["data"] = page
            doc["includes"] = self._includes_for(page, q.get("expansions", ""))
        return web.json_response(doc, headers=self.rate_headers)

    def _includes_for(self, page: list[dict[str, Any]], expansions: str) -> dict[str, Any]:
        exp = set(expansions.split(","))
        users = {t["author_id"] for t in page} if "author_id" in exp else set()
        keys = {k for t in page for k in (t.get("attachments") or {}).get("media_keys", [])} \
            if "attachments.media_keys" in exp else set()
        places = {(t.get("geo") or {}).get("place_id") for t in page} if "geo.place_id" in exp else set()
        out = {"users": [u for u in self.includes.get("users", []) if u["id"] in users],
               "media": [m for m in self.includes.get("media", []) if m["media_key"] in keys],
               "places": [p for p in self.includes.get("places", []) if p["id"] in places]}
        return {k: v for k, v in out.items() if v}

    async def user_by_name(self, request: web.Request) -> web.Response:
        self.log.append({"what": "user", "name": request.match_info["username"]})
        if not self._bearer_ok(request):
            return _problem(401, "Unauthorized", "Unauthorized")
        return web.json_response({"data": {"id": self.user_id, "name": "LAPOR!",
                                           "username": request.match_info["username"]}})

    # ------------------------------------------------------------------ user-context writes
    async def create_tweet(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.log.append({"what": "tweet", "body": body, "at": time.time()})
        if not self._oauth1_ok(request):
            return _problem(401, "Unauthorized", "Unauthorized")
        scripted = self._scripted("tweets")
        if scripted is not None:
            return scripted
        if not isinstance(body.get("text"), str) or not body["text"] or len(body["text"]) > 280:
            return _problem(400, "Invalid Request", "text must be 1-280 characters")
        self.tweets.append(body)
        new_id = str(1993000000000000000 + len(self.tweets))
        return web.json_response({"data": {"id": new_id, "text": body["text"],
                                           "edit_history_tweet_ids": [new_id]}}, status=201,
                                 headers=self.rate_headers)

    async def create_dm(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.log.append({"what": "dm", "body": body, "participant": request.match_info["participant"]})
        if not self._oauth1_ok(request):
            return _problem(401, "Unauthorized", "Unauthorized")
        scripted = self._scripted("dm")
        if scripted is not None:
            return scripted
        if not body.get("text"):
            return _problem(400, "Invalid Request", "text or attachments required")
        self.dms.append({"participant_id": request.match_info["participant"], **body})
        return web.json_response({"data": {"dm_conversation_id": f"{self.user_id}-{request.match_info['participant']}",
                                           "dm_event_id": str(1994000000000000000 + len(self.dms))}}, status=201)

    async def get_tweet(self, request: web.Request) -> web.Response:
        self.log.append({"what": "lookup", "id": request.match_info["id"], "query": dict(request.query)})
        if not (self._oauth1_ok(request) or self._bearer_ok(request)):
            return _problem(401, "Unauthorized", "Unauthorized")
        scripted = self._scripted("lookup")
        if scripted is not None:
            return scripted
        for t in self.timeline:
            if t["id"] == request.match_info["id"]:
                return web.json_response({"data": {"id": t["id"], "text": t["text"], "author_id": t["author_id"]}})
        return web.json_response({"errors": [{"resource_id": request.match_info["id"], "title": "Not Found Error",
                                              "detail": "Could not find tweet"}]})
