"""tweepy clients for the X API v2, pointed at ``settings.twitter_api_url``.

tweepy 4.17 hard-codes ``host = "https://api.twitter.com"`` inside ``BaseClient.request`` (no
option to change it), but sends every call through ``self.session`` (a ``requests.Session``).
So the base URL is overridden by giving the client a session that rewrites that prefix to ours
(the real ``https://api.x.com`` in production, a loopback fake in tests). Everything else —
auth headers, OAuth 1.0a signing (done on the rewritten URL), error classes, 429 ``reset_time``
— stays tweepy's. The session also adds a timeout, which tweepy does not set.

Clients return the raw ``requests.Response`` (``return_type``) so the poller sees the rate-limit
headers and the converter gets the plain v2 JSON.
"""

from __future__ import annotations

from typing import Any

import requests
import tweepy

from config.settings import Settings

TWEEPY_HOST = "https://api.twitter.com"
DEFAULT_TIMEOUT_S = 30.0

# the mentions request the poller makes (tweepy parameter names)
MENTION_PARAMS: dict[str, list[str]] = {
    "expansions": ["author_id", "attachments.media_keys", "geo.place_id", "referenced_tweets.id",
                   "in_reply_to_user_id"],
    "tweet_fields": ["author_id", "conversation_id", "created_at", "in_reply_to_user_id",
                     "referenced_tweets", "attachments", "geo", "entities", "lang", "note_tweet"],
    "user_fields": ["username", "name"],
    "media_fields": ["url", "preview_image_url", "type", "alt_text", "variants"],
    "place_fields": ["full_name", "country_code", "geo"],
}


class RebasedSession(requests.Session):
    """A ``requests.Session`` that sends tweepy's ``https://api.twitter.com`` calls to ``base_url``."""

    def __init__(self, base_url: str, timeout_s: float = DEFAULT_TIMEOUT_S) -> None:
        super().__init__()
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s

    def request(self, method: Any, url: Any, *args: Any, **kwargs: Any) -> requests.Response:
        if isinstance(url, str) and url.startswith(TWEEPY_HOST):
            url = self.base_url + url[len(TWEEPY_HOST):]
        kwargs.setdefault("timeout", self.timeout_s)
        return super().request(method, url, *args, **kwargs)


def _client(settings: Settings, **creds: Any) -> tweepy.Client:
    client = tweepy.Client(**creds, return_type=requests.Response, wait_on_rate_limit=False)
    client.session = RebasedSession(settings.twitter_api_url)
    return client


def app_client(settings: Settings) -> tweepy.Client:
    """App-only (Bearer) client: reads the mentions timeline."""
    return _client(settings, bearer_token=Settings.secret(settings.twitter_bearer_token))


def user_credentials(settings: Settings) -> dict[str, str] | None:
    """The four OAuth 1.0a user-context secrets replies need, or None if any is missing."""
    s = Settings.secret
    creds = {"consumer_key": s(settings.twitter_consumer_key), "consumer_secret": s(settings.twitter_consumer_secret),
             "access_token": s(settings.twitter_access_token),
             "access_token_secret": s(settings.twitter_access_token_secret)}
    if not all(creds.values()):
        return None
    return {k: v for k, v in creds.items() if v}


def user_client(settings: Settings) -> tweepy.Client | None:
    """User-context (OAuth 1.0a) client of @LAPOR1708: posts replies and DMs."""
    creds = user_credentials(settings)
    return _client(settings, **creds) if creds else None
