"""Who may use the admin pages: the bearer ``LAPOR_ADMIN_TOKEN`` or a revocable session cookie.

No token configured ⇒ everyone is refused; a token shorter than 24 characters stops the start
(settings). The cookie is signed (itsdangerous) with ``LAPOR_ADMIN_SESSION_SECRET`` or, when
unset, a key derived from the admin token (so changing the token ends every session), and it
names a session that must also exist in Redis (``lapor:admin:session:<sid>``, expiring with the
cookie): logout deletes it, so a copied cookie is useless afterwards. Redis unreachable ⇒ cookie
sessions are refused (fail closed); the bearer token still works. Actions (POST) made with the
cookie need a CSRF token bound to the session and a same-origin ``Origin`` — scheme and host as the
client saw them, through trusted proxies (``gateway.proxy``).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

import redis.asyncio as aioredis
from aiohttp import web
from itsdangerous import BadSignature, URLSafeTimedSerializer

from config.settings import Settings
from gateway import keys
from gateway.intake import REDIS_ERRORS

COOKIE = "lapor_admin"
SESSION_PREFIX = keys.ADMIN_SESSION_PREFIX


@dataclass(frozen=True)
class Principal:
    via: str  # bearer | cookie
    sid: str  # session id ("" for bearer)


def same_origin(request: web.Request) -> bool:
    """No ``Origin`` (same-origin GET/form in old browsers) or exactly the origin the client used."""
    origin = request.headers.get("Origin")
    return not origin or origin == f"{request.scheme}://{request.host}"


class AdminAuth:
    def __init__(self, settings: Settings, r: aioredis.Redis | None = None) -> None:
        self.token = settings.secret(settings.admin_token)
        secret = settings.secret(settings.admin_session_secret)
        if not secret and self.token:
            secret = hmac.new(self.token.encode(), b"lapor-admin-session/v1", hashlib.sha256).hexdigest()
        self.secret = secret or ""
        self.max_age = settings.admin_session_max_age_s
        self.redis = r
        self._ser = URLSafeTimedSerializer(self.secret, salt="lapor-admin") if self.secret else None

    @property
    def enabled(self) -> bool:
        return bool(self.token)

    def check_token(self, candidate: str) -> bool:
        return bool(self.token) and hmac.compare_digest(candidate.encode("utf-8", "surrogateescape"),
                                                        (self.token or "").encode())

    async def new_session(self) -> str:
        """A signed cookie value for a session recorded in Redis (raises a Redis error: caller fails closed)."""
        assert self._ser is not None and self.redis is not None
        sid = secrets.token_urlsafe(16)
        await self.redis.set(SESSION_PREFIX + sid, b"1", ex=self.max_age)
        return str(self._ser.dumps({"sid": sid}))

    async def revoke(self, p: Principal) -> None:
        if p.sid and self.redis is not None:
            await self.redis.delete(SESSION_PREFIX + p.sid)

    async def principal(self, request: web.Request) -> Principal | None:
        if not self.enabled:
            return None
        header = request.headers.get("Authorization", "")
        if header[:7].lower() == "bearer ":
            return Principal("bearer", "") if self.check_token(header[7:].strip()) else None
        raw = request.cookies.get(COOKIE)
        if not raw or self._ser is None or self.redis is None:
            return None
        try:  # the cookie's exact bytes: non-UTF-8 ones are just a wrong signature
            doc = self._ser.loads(raw.encode("utf-8", "surrogateescape"), max_age=self.max_age)
        except (BadSignature, UnicodeError):
            return None
        if not (isinstance(doc, dict) and isinstance(doc.get("sid"), str)):
            return None
        try:
            alive = await self.redis.exists(SESSION_PREFIX + doc["sid"])
        except REDIS_ERRORS:
            return None  # cannot tell whether it was revoked: refuse
        return Principal("cookie", doc["sid"]) if alive else None

    def csrf_for(self, p: Principal) -> str:
        return hmac.new(self.secret.encode(), f"csrf:{p.sid}".encode(), hashlib.sha256).hexdigest()

    def check_csrf(self, request: web.Request, p: Principal, form_value: str | None = None) -> bool:
        if p.via == "bearer":
            return True
        if not same_origin(request):
            return False
        sent = request.headers.get("X-CSRF-Token") or form_value or ""
        return hmac.compare_digest(sent.encode("utf-8", "surrogateescape"), self.csrf_for(p).encode())

    def set_cookie(self, response: web.StreamResponse, request: web.Request, value: str) -> None:
        response.set_cookie(COOKIE, value, max_age=self.max_age, path="/admin", httponly=True, samesite="Strict",
                            secure=request.secure)
