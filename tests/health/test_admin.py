"""/admin: refuses without the token, login form + signed cookie, CSRF on actions, JSON APIs, replay."""

from __future__ import annotations

import asyncio
import re
import time

import aiohttp
import orjson
import pytest

from channels.core.hooks import Decision
from tests.support.core import wait_for_records
from tests.support.fixtures import TOKENS

PATH = "/channels/http/complaints"
ADMIN = {"Authorization": "Bearer test-admin-token-0123456789"}
AUTH = {"Authorization": "Bearer test-http-token"}

PROTECTED = [("GET", "/admin/"), ("GET", "/admin/api/channels"), ("GET", "/admin/api/health"),
             ("GET", "/admin/api/pipeline"), ("GET", "/admin/api/channels/api/log"), ("GET", "/admin/api/dead"),
             ("POST", "/admin/api/dead/replay"), ("GET", "/admin/api/alerts"), ("POST", "/admin/logout")]


@pytest.mark.parametrize(("method", "path"), PROTECTED)
@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic dGVzdA=="},
                                     {"Cookie": "lapor_admin=forged.value.sig"}], ids=["none", "wrong", "basic",
                                                                                       "forged-cookie"])
async def test_refused_without_the_token(gateway, method, path, headers):
    status, body, _h = await gateway.request(method, path, headers=headers, json={"all": True})
    assert status == 401
    assert b"Masuk" in body if path == "/admin/" else b"authentication required" in body


@pytest.mark.parametrize(("method", "path"), [*PROTECTED, ("GET", "/admin/login"), ("POST", "/admin/login")])
async def test_unset_token_refuses_everyone(make_gateway, method, path):
    gw = await make_gateway(admin_token=None)
    status, _b, _h = await gw.request(method, path, headers={"Authorization": "Bearer "}, data={"token": ""})
    assert status == 403


async def test_channels_api_shape(gateway):
    assert (await gateway.post(PATH, json={"id": "a1", "text": "Jalan rusak.", "reporter": {"phone": "0811"}},
                               headers=AUTH))[0] == 202
    await asyncio.sleep(1.3)  # one flush of the metrics buffer
    status, body, headers = await gateway.get("/admin/api/channels", headers=ADMIN)
    assert status == 200 and headers["Cache-Control"] == "no-store"
    doc = orjson.loads(body)
    assert doc["status"] in ("ok", "degraded", "failing", "silent")
    names = [c["channel"] for c in doc["channels"]]
    assert names == ["api", "sms", "meta", "twitter", "telegram", "email", "whatsapp"]
    api = doc["channels"][0]
    assert set(api) >= {"state", "reason", "reason_id", "last_message_at", "volume_24h", "recent", "day", "services"}
    assert len(api["volume_24h"]) == 24 and api["volume_24h"][-1] == 1
    assert api["day"]["received"] == 1 and api["last_message_at"] == pytest.approx(time.time(), abs=30)


async def test_channel_log_is_redacted_and_per_channel(gateway):
    await gateway.post(PATH, json={"id": "a2", "text": "x", "reporter": {"phone": "081234567890"}}, headers=AUTH)
    await gateway.post(PATH, json={"id": "a3"}, headers=AUTH)
    await asyncio.sleep(0.8)
    status, body, _h = await gateway.get("/admin/api/channels/api/log", headers=ADMIN)
    assert status == 200
    entries = orjson.loads(body)["entries"]
    assert [e["status"] for e in entries][:2] == [400, 202]
    assert b"081234567890" not in body and b"test-http-token" not in body
    assert (await gateway.get("/admin/api/channels/nope/log", headers=ADMIN))[0] == 404


class Exploding:
    """A preprocessor that fails on every message: the entry ends in the dead letters."""

    def applies(self, msg) -> bool:
        return True

    async def prepare(self, r, msg) -> Decision:
        raise RuntimeError("normalizer exploded")

    async def sweep(self, r):
        return []


async def make_dead_letter(gw, rsync, native_id: str = "d1") -> str:
    await gw.post(PATH, json={"id": native_id, "text": "Pungli di kantor kelurahan.", "reporter": {"phone": "0811"}},
                  headers=AUTH)
    dw = await gw.start_worker(preprocessors=[Exploding()])
    deadline = time.monotonic() + 30
    while not rsync.xlen("lapor:dead"):
        assert time.monotonic() < deadline, "no dead letter"
        await asyncio.sleep(0.1)
    dw.stop()
    return rsync.xrange("lapor:dead")[0][0].decode()


async def login(gw) -> tuple[aiohttp.ClientSession, str]:
    session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
    async with session.post(gw.url + "/admin/login", data={"token": "wrong"}, allow_redirects=False) as resp:
        assert resp.status == 401
    async with session.post(gw.url + "/admin/login", data={"token": TOKENS["admin_token"]},
                            allow_redirects=False) as resp:
        assert resp.status == 303 and resp.headers["Location"] == "/admin/"
        cookie = resp.headers["Set-Cookie"]
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/admin" in cookie
    async with session.get(gw.url + "/admin/") as resp:
        assert resp.status == 200
        page = await resp.text()
        assert "script-src 'self'" in resp.headers["Content-Security-Policy"]
    m = re.search(r'name="csrf" content="([0-9a-f]{64})"', page)
    assert m, "CSRF token in the page"
    return session, m.group(1)


async def test_login_cookie_csrf_and_replay(gateway, rsync):
    dead_id = await make_dead_letter(gateway, rsync)
    session, csrf = await login(gateway)
    try:
        url = gateway.url + "/admin/api/dead/replay"
        async with session.get(gateway.url + "/admin/api/dead") as resp:
            doc = await resp.json()
            assert doc["dead_letters"][0]["dead_id"] == dead_id
            assert "normalizer exploded" in doc["dead_letters"][0]["error"]
        async with session.post(url, json={"ids": [dead_id]}) as resp:
            assert resp.status == 403  # cookie without CSRF token
        async with session.post(url, json={"ids": [dead_id]}, headers={"X-CSRF-Token": "0" * 64}) as resp:
            assert resp.status == 403
        async with session.post(url, json={"ids": [dead_id]},
                                headers={"X-CSRF-Token": csrf, "Origin": "http://evil.example"}) as resp:
            assert resp.status == 403  # cross-site
        assert rsync.xlen("lapor:dead") == 1
        async with session.post(url, json={"ids": [dead_id]}, headers={"X-CSRF-Token": csrf}) as resp:
            assert resp.status == 200 and (await resp.json()) == {"replayed": 1}
        assert rsync.xlen("lapor:dead") == 0
        await gateway.start_worker(preprocessors=[])  # a fixed worker: the replayed entry reaches the core
        records = await asyncio.to_thread(wait_for_records, rsync, 1)
        assert records[0]["idempotency_key"] == "api:d1"
        async with session.post(gateway.url + "/admin/logout", data={"csrf": csrf}, allow_redirects=False) as resp:
            assert resp.status == 303
        async with session.get(gateway.url + "/admin/api/health") as resp:
            assert resp.status == 401
    finally:
        await session.close()


async def test_bearer_may_replay_without_csrf(gateway, rsync):
    await make_dead_letter(gateway, rsync, "d2")
    status, body, _h = await gateway.post("/admin/api/dead/replay", json={"all": True}, headers=ADMIN)
    assert status == 200 and orjson.loads(body) == {"replayed": 1}
    status, _b, _h = await gateway.post("/admin/api/dead/replay", json={"ids": []}, headers=ADMIN)
    assert status == 400


async def test_static_assets_are_packaged_and_confined(gateway):
    for name, ctype in (("app.js", "text/javascript"), ("app.css", "text/css")):
        status, body, headers = await gateway.get(f"/admin/static/{name}")
        assert status == 200 and headers["Content-Type"].startswith(ctype) and body
    for bad in ("index.html", "..%2F__init__.py", "__init__.py", ".hidden.js"):
        assert (await gateway.get(f"/admin/static/{bad}"))[0] == 404
    status, body, _h = await gateway.get("/admin/static/app.js")
    assert b"http://" not in body.replace(b"http://www.w3.org/2000/svg", b"") and b"https://" not in body


async def test_login_is_rate_limited_per_address(gateway):
    for _ in range(10):
        assert (await gateway.post("/admin/login", data={"token": "guess"}))[0] == 401
    status, body, _h = await gateway.post("/admin/login", data={"token": "test-admin-token-0123456789"})
    assert status == 429 and b"too many attempts" in body


def test_prometheus_style_named_labels_still_work():
    from gateway import metrics

    metrics.EVENTS.labels(channel="sms", outcome="stored").inc(2)
    metrics.E2E_LATENCY.labels(channel="sms").observe(0.2)
    assert metrics._buf.counters[("lapor_channel_events", "sms|stored")] == 2
    assert metrics._buf.hist[("lapor_end_to_end_latency_seconds", "sms|count")] == 1
