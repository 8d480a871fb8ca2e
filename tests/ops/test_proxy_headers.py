"""gateway.proxy over real sockets: which peer is believed, chains of proxies, RFC 7239, junk values."""

from __future__ import annotations

import aiohttp
import pytest
from aiohttp import web

from gateway.proxy import TrustedProxies, proxy_middleware


async def echo(request: web.Request) -> web.Response:
    return web.json_response({"scheme": request.scheme, "host": request.host, "remote": request.remote,
                              "secure": request.secure})


@pytest.fixture
async def echo_url():
    app = web.Application(middlewares=[proxy_middleware(TrustedProxies.from_spec("127.0.0.1, 10.0.0.0/8, ::1"))])
    app.router.add_get("/", echo)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    yield f"http://{host}:{port}/"
    await runner.cleanup()


async def seen(url: str, headers: dict[str, str], local: str = "127.0.0.1") -> dict:
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(local_addr=(local, 0))) as s, \
            s.get(url, headers=headers) as resp:
        return await resp.json()


CASES = [
    # (headers, expected scheme, expected host or None (= unchanged), expected remote)
    ({"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https", "X-Forwarded-Host": "lapor.go.id"},
     "https", "lapor.go.id", "203.0.113.7"),
    # the client forged the left part; the nearest untrusted hop is the client
    ({"X-Forwarded-For": "198.51.100.1, 203.0.113.7, 10.1.2.3", "X-Forwarded-Proto": "https"},
     "https", None, "203.0.113.7"),
    # RFC 7239, IPv6 with port, quoted
    ({"Forwarded": 'for="[2001:db8::17]:4711";proto=https;host=lapor.go.id'}, "https", "lapor.go.id", "2001:db8::17"),
    ({"Forwarded": "for=192.0.2.60;proto=https, for=10.0.0.5;proto=http"}, "https", None, "192.0.2.60"),
    # junk is not believed: an unknown scheme falls back to http, a bad host is ignored, a bad address too
    ({"X-Forwarded-For": "not-an-ip", "X-Forwarded-Proto": "javascript", "X-Forwarded-Host": "a b/c"},
     "http", None, "127.0.0.1"),
    # everyone in the chain is trusted: the leftmost
    ({"X-Forwarded-For": "10.9.9.9, 10.1.1.1"}, "http", None, "10.9.9.9"),
]


@pytest.mark.parametrize(("headers", "scheme", "host", "remote"), CASES)
async def test_trusted_peer_headers(echo_url, headers, scheme, host, remote):
    doc = await seen(echo_url, headers)
    assert doc["scheme"] == scheme and doc["secure"] == (scheme == "https")
    assert doc["remote"] == remote
    if host is not None:
        assert doc["host"] == host
    else:
        assert doc["host"].startswith("127.0.0.1:")


@pytest.mark.parametrize(("headers", "_s", "_h", "_r"), CASES)
async def test_untrusted_peer_headers_change_nothing(echo_url, headers, _s, _h, _r):
    doc = await seen(echo_url, headers, local="127.0.0.2")
    assert doc == {"scheme": "http", "host": echo_url.split("/")[2], "remote": "127.0.0.2", "secure": False}


def test_settings_refuse_a_malformed_proxy_list(monkeypatch):
    from config.settings import SettingsError, load_settings

    monkeypatch.setenv("LAPOR_TRUSTED_PROXIES", "10.0.0.0/8, proxy.example")
    with pytest.raises(SettingsError, match="LAPOR_TRUSTED_PROXIES"):
        load_settings()
