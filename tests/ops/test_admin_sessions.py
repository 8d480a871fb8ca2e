"""Admin login and sessions (issue: hardening item 6): atomic fail-closed limiter, revocable sessions,
minimum admin-token length."""

from __future__ import annotations

import asyncio
import re

import aiohttp
import pytest

from config.settings import SettingsError, load_settings
from tests.support.fixtures import TOKENS
from tests.support.redis_proc import RedisProc

TOKEN = TOKENS["admin_token"]


async def login(session: aiohttp.ClientSession, url: str) -> str:
    async with session.post(url + "/admin/login", data={"token": TOKEN}, allow_redirects=False) as resp:
        assert resp.status == 303
        return resp.cookies["lapor_admin"].value


async def test_fifty_parallel_guesses_get_exactly_ten_checks(gateway):
    async def guess(i: int) -> int:
        return (await gateway.post("/admin/login", data={"token": f"guess-{i}"}))[0]

    statuses = await asyncio.gather(*(guess(i) for i in range(50)))
    assert statuses.count(401) == 10 and statuses.count(429) == 40
    assert (await gateway.post("/admin/login", data={"token": TOKEN}))[0] == 429


async def test_a_success_clears_the_count(gateway):
    for _ in range(9):
        assert (await gateway.post("/admin/login", data={"token": "nope"}))[0] == 401
    status, _b, _h = await gateway.request("POST", "/admin/login", data={"token": TOKEN}, allow_redirects=False)
    assert status == 303
    for _ in range(10):
        assert (await gateway.post("/admin/login", data={"token": "nope"}))[0] == 401


async def test_logout_revokes_the_session_server_side(gateway):
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as s:
        value = await login(s, gateway.url)
        async with s.get(gateway.url + "/admin/") as resp:
            csrf = re.search(r'name="csrf" content="([0-9a-f]{64})"', await resp.text()).group(1)
        async with s.post(gateway.url + "/admin/logout", data={"csrf": csrf}, allow_redirects=False) as resp:
            assert resp.status == 303
    # someone who copied the cookie before the logout cannot use it
    status, _b, _h = await gateway.get("/admin/api/health", headers={"Cookie": f"lapor_admin={value}"})
    assert status == 401
    assert await gateway.ctx.redis.keys("lapor:admin:session:*") == []


async def test_a_signed_cookie_without_a_server_session_is_refused(gateway):
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as s:
        value = await login(s, gateway.url)
    assert (await gateway.get("/admin/api/health", headers={"Cookie": f"lapor_admin={value}"}))[0] == 200
    await gateway.ctx.redis.delete(*await gateway.ctx.redis.keys("lapor:admin:session:*"))  # e.g. revoked by ops
    assert (await gateway.get("/admin/api/health", headers={"Cookie": f"lapor_admin={value}"}))[0] == 401


async def test_login_fails_closed_when_redis_errors(make_gateway, tmp_path):
    own = RedisProc(tmp_path / "redis").start()
    try:
        gw = await make_gateway(redis_url=own.url)
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as s:
            value = await login(s, gw.url)
        own.stop()
        status, body, _h = await gw.post("/admin/login", data={"token": TOKEN})
        assert status == 503 and b"login unavailable" in body
        # a cookie whose revocation cannot be checked is refused; the bearer token still works
        assert (await gw.get("/admin/api/channels", headers={"Cookie": f"lapor_admin={value}"}))[0] == 401
        assert (await gw.get("/admin/api/channels", headers={"Authorization": f"Bearer {TOKEN}"}))[0] == 200
    finally:
        own.stop()


@pytest.mark.parametrize("token", ["short", "x" * 23])
def test_a_short_admin_token_stops_the_start(monkeypatch, token):
    monkeypatch.setenv("LAPOR_ADMIN_TOKEN", token)
    with pytest.raises(SettingsError, match=r"LAPOR_ADMIN_TOKEN.*at least 24"):
        load_settings()


def test_provider_secrets_have_no_length_rule(monkeypatch):
    monkeypatch.setenv("LAPOR_ADMIN_TOKEN", "y" * 24)
    monkeypatch.setenv("LAPOR_SMS_TOKEN", "a")
    monkeypatch.setenv("LAPOR_TELEGRAM_SECRET", "b")
    s = load_settings()
    assert s.secret(s.sms_token) == "a" and s.secret(s.admin_token) == "y" * 24
