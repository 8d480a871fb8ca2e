"""Behind a real TLS-terminating reverse proxy process on loopback: the admin login works, its cookie is
Secure, the limiter counts clients (not the proxy), and forwarded headers from untrusted peers are ignored."""

from __future__ import annotations

import asyncio
import re
import ssl
import subprocess
import sys
import time

import aiohttp
import pytest

from tests.support.fixtures import TOKENS
from tests.support.redis_proc import free_port

TOKEN = TOKENS["admin_token"]


def client(cert, local: str) -> aiohttp.ClientSession:
    ctx = ssl.create_default_context(cafile=str(cert))
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=ctx, local_addr=(local, 0)))


@pytest.fixture
async def behind_proxy(make_gateway, tls_cert, tmp_path):
    gw = await make_gateway(trusted_proxies="127.0.0.1/32")  # only the proxy's address
    port = free_port()
    cert, key = tls_cert
    log = (tmp_path / "proxy.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "tests.support.tls_proxy", str(port), gw.url, str(cert), str(key)],
                            stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 20
    while True:
        try:
            _r, w = await asyncio.open_connection("127.0.0.1", port)
            w.close()
            break
        except OSError:
            assert time.monotonic() < deadline and proc.poll() is None, (tmp_path / "proxy.log").read_text()
            await asyncio.sleep(0.1)
    yield gw, f"https://localhost:{port}", cert
    proc.terminate()
    proc.wait(10)
    log.close()


async def test_admin_login_and_action_over_https_through_the_proxy(behind_proxy):
    _gw, base, cert = behind_proxy
    async with client(cert, "127.0.0.1") as s:
        async with s.post(base + "/admin/login", data={"token": TOKEN}, allow_redirects=False,
                          headers={"Origin": base}) as resp:
            assert resp.status == 303, await resp.text()  # the Origin check sees https://localhost:port
            cookie = resp.headers["Set-Cookie"]
            assert "Secure" in cookie and "HttpOnly" in cookie
            assert re.fullmatch(r"[0-9a-f]{24}", resp.headers["X-Request-ID"])
        async with s.get(base + "/admin/") as resp:  # the jar sends a Secure cookie over https only
            assert resp.status == 200
            csrf = re.search(r'name="csrf" content="([0-9a-f]{64})"', await resp.text()).group(1)
        async with s.post(base + "/admin/api/dead/replay", json={"all": True},
                          headers={"X-CSRF-Token": csrf, "Origin": base}) as resp:
            assert resp.status == 200 and (await resp.json()) == {"replayed": 0}
        async with s.post(base + "/admin/api/dead/replay", json={"all": True},
                          headers={"X-CSRF-Token": csrf, "Origin": base.replace("https", "http")}) as resp:
            assert resp.status == 403  # http origin is not the origin the client used


async def test_limiter_counts_each_client_behind_the_proxy(behind_proxy):
    _gw, base, cert = behind_proxy
    async with client(cert, "127.0.0.3") as attacker, client(cert, "127.0.0.4") as admin:
        for _ in range(10):
            async with attacker.post(base + "/admin/login", data={"token": "guess"}, allow_redirects=False) as resp:
                assert resp.status == 401
        async with attacker.post(base + "/admin/login", data={"token": TOKEN}, allow_redirects=False) as resp:
            assert resp.status == 429  # this client is locked out, even with the right token
        async with admin.post(base + "/admin/login", data={"token": TOKEN}, allow_redirects=False) as resp:
            assert resp.status == 303  # another client behind the same proxy is not


async def test_forwarded_headers_from_an_untrusted_peer_are_ignored(behind_proxy):
    gw, _base, _cert = behind_proxy
    forged = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "127.0.0.9", "X-Forwarded-Host": "lapor.go.id",
              "Origin": "https://lapor.go.id"}
    conn = aiohttp.TCPConnector(local_addr=("127.0.0.2", 0))  # straight to the gateway, not via the proxy
    async with aiohttp.ClientSession(connector=conn) as s:
        async with s.post(gw.url + "/admin/login", data={"token": TOKEN}, headers=forged,
                          allow_redirects=False) as resp:
            assert resp.status == 403  # its own scheme/host are http://127.0.0.1:port, not the forged ones
        for _ in range(10):
            async with s.post(gw.url + "/admin/login", data={"token": "x"},
                              headers={"X-Forwarded-For": "127.0.0.9"}, allow_redirects=False) as resp:
                assert resp.status == 401
        async with s.post(gw.url + "/admin/login", data={"token": TOKEN}, allow_redirects=False,
                          headers={"X-Forwarded-For": "127.0.0.10"}) as resp:
            assert resp.status == 429  # counted against 127.0.0.2 whatever it claims
