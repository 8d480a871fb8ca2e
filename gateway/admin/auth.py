"""Who may use the admin pages: the bearer ``LAPOR_ADMIN_TOKEN`` or a signed session cookie.

No token configured ⇒ everyone is refused. The cookie is signed (itsdangerous) with
``LAPOR_ADMIN_SESSION_SECRET`` or, when unset, a key derived from the admin token (so changing
the token ends every session). Actions (POST) made with the cookie need a CSRF token bound to
the session and a same-origin ``Origin``; bearer clients send no ambient credential and need none.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from aiohttp import web
from itsdangerous import BadSignature, URLSafeTimedSerializer

from config.settings import Settings

COOKIE = "lapor_admin"


@dataclass(frozen=True)
class Principal:
    via: str  # bearer | cookie
    sid: str  # session id ("" for bearer)


class AdminAuth:
    def __init__(self, settings: Settings) -> None:
        self.token = settings.secret(settings.admin_token)
        secret = settings.secret(settings.admin_session_secret)
        if not secret and self.token:
            secret = hmac.new(self.token.encode(), b"lapor-admin-session/v1", hashlib.sha256).hexdigest()
        self.secret = secret or ""
        self.max_age = settings.admin_session_max_age_s
        self._ser = URLSafeTimedSerializer(self.secret, salt="lapor-admin") if self.secret else None

    @property
    def enabled(self) -> bool:
        return bool(self.token)

    def check_token(self, candidate: str) -> bool:
        return bool(self.token) and hmac.compare_digest(candidate.encode(), (self.token or "").encode())

    def new_session(self) -> str:
        assert self._ser is not None
        return str(self._ser.dumps({"sid": secrets.token_urlsafe(16)}))

    def principal(self, request: web.Request) -> Principal | None:
        if not self.enabled:
            return None
        header = request.headers.get("Authorization", "")
        if header[:7].lower() == "bearer ":
            return Principal("bearer", "") if self.check_token(header[7:].strip()) else None
        raw = request.cookies.get(COOKIE)
        if raw and self._ser is not None:
            try:
                doc = self._ser.loads(raw, max_age=self.max_age)
            except BadSignature:
                return None
            if isinstance(doc, dict) and isinstance(doc.get("sid"), str):
                return Principal("cookie", doc["sid"])
        return None

    def csrf_for(self, p: Principal) -> str:
        return hmac.new(self.secret.encode(), f"csrf:{p.sid}".encode(), hashlib.sha256).hexdigest()

    def check_csrf(self, request: web.Request, p: Principal, form_value: str | None = None) -> bool:
        if p.via == "bearer":
            return True
        origin = request.headers.get("Origin")
        if origin and origin != f"{request.scheme}://{request.host}":
            return False
        sent = request.headers.get("X-CSRF-Token") or form_value or ""
        return hmac.compare_digest(sent.encode(), self.csrf_for(p).encode())

    def set_cookie(self, response: web.StreamResponse, request: web.Request, value: str) -> None:
        response.set_cookie(COOKIE, value, max_age=self.max_age, path="/admin", httponly=True, samesite="Strict",
                            secure=request.secure)
