"""channels.media: the allowlist matrix of the one media fetcher (SSRF), over real loopback sockets.

The "CDN" is an aiohttp server on 127.0.0.1 registered as the configured provider origin (as a
test or a local Bot API server would be); a second server plays an internal service that must
never be reached. URLs refused by policy are refused before any connection is made.
"""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from yarl import URL

from channels.media import (
    META_MEDIA_HOSTS,
    MediaFetchFailed,
    MediaPolicy,
    MediaRefused,
    MediaTooLarge,
    Origin,
    PublicResolver,
    fetch_media,
    meta_policy,
    telegram_policy,
)
from tests.support.loopback import LoopbackServer

CAP = 10_000
JPEG = b"\xff\xd8\xff\xe0" + b"j" * 1000


class Cdn(LoopbackServer):
    def __init__(self) -> None:
        self.hits: list[str] = []
        self.other = ""  # URL of another server, for cross-host redirects
        self.streamed = 0

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/{name:.*}", self.serve)

    async def serve(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        self.hits.append(name)
        if name == "ok.jpg":
            return web.Response(body=JPEG, content_type="image/jpeg")
        if name == "same-host-redirect":
            raise web.HTTPFound("/ok.jpg")
        if name == "loop":
            raise web.HTTPFound("/loop")
        if name == "to-other-host":
            raise web.HTTPFound(self.other + "/secret")
        if name == "to-metadata":
            raise web.HTTPTemporaryRedirect("http://169.254.169.254/latest/meta-data/")
        if name == "to-userinfo":
            raise web.HTTPFound(f"https://scontent.xx.fbcdn.net@{URL(self.other).host}/x")
        if name == "declared-too-large":
            resp = web.StreamResponse(headers={"Content-Length": str(CAP + 1), "Content-Type": "image/jpeg"})
            await resp.prepare(request)
            await resp.write(b"x" * 10)
            return resp
        if name == "endless":  # chunked, no length: only the streaming count can stop it
            resp = web.StreamResponse(headers={"Content-Type": "image/jpeg"})
            resp.enable_chunked_encoding()
            await resp.prepare(request)
            try:
                for _ in range(2000):  # 128 MiB if nobody stops reading
                    await resp.write(b"z" * 65536)
                    self.streamed += 65536
            except (ConnectionResetError, RuntimeError, OSError):
                pass
            return resp
        if name == "gzip":
            return web.Response(body=gzip.compress(b"\0" * 5_000_000), content_type="image/jpeg",
                                headers={"Content-Encoding": "gzip"})
        if name == "missing":
            return web.Response(status=404)
        if name == "slow":
            await asyncio.sleep(5)
            return web.Response(body=JPEG)
        return web.Response(status=418)


class RawLiar:
    """A TCP server whose Content-Length does not match what it sends."""

    def __init__(self, declared: int, sent: int) -> None:
        self.declared, self.sent = declared, sent
        self.url = ""

    async def start(self) -> RawLiar:
        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: image/jpeg\r\n"
                         + f"Content-Length: {self.declared}\r\nConnection: close\r\n\r\n".encode()
                         + b"L" * self.sent)
            await writer.drain()
            writer.close()

        self.server = await asyncio.start_server(handle, "127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"
        return self

    async def stop(self) -> None:
        self.server.close()
        await self.server.wait_closed()


@pytest.fixture
async def servers() -> AsyncIterator[tuple[Cdn, Cdn]]:
    cdn, internal = await Cdn().start(), await Cdn().start()
    cdn.other = internal.url
    yield cdn, internal
    await cdn.stop()
    await internal.stop()


def policy_for(cdn: Cdn, **kw) -> MediaPolicy:
    """Meta's allowlist, with the fake CDN as the configured provider origin."""
    origin = Origin.of(cdn.url)
    assert origin is not None
    return MediaPolicy(hosts=META_MEDIA_HOSTS, max_bytes=kw.pop("max_bytes", CAP), origins=(origin,), **kw)


async def test_configured_origin_is_fetched(servers):
    cdn, _ = servers
    media = await fetch_media(cdn.url + "/ok.jpg", policy_for(cdn))
    assert media.data == JPEG and media.mime == "image/jpeg"


async def test_redirect_within_the_origin_is_followed(servers):
    cdn, _ = servers
    media = await fetch_media(cdn.url + "/same-host-redirect", policy_for(cdn))
    assert media.data == JPEG and cdn.hits == ["same-host-redirect", "ok.jpg"]


@pytest.mark.parametrize("url, why", [
    ("http://scontent.xx.fbcdn.net/v/photo.jpg", "scheme"),
    ("ftp://scontent.xx.fbcdn.net/photo.jpg", "scheme"),
    ("file:///etc/passwd", "absolute"),
    ("/etc/passwd", "absolute"),
    ("https://evil.example/photo.jpg", "not a media host"),
    ("https://fbcdn.net@evil.example/photo.jpg", "credentials"),
    ("https://user:pw@scontent.xx.fbcdn.net/photo.jpg", "credentials"),
    ("https://evil.example#@fbcdn.net/photo.jpg", "not a media host"),
    ("https://evil.example\\@fbcdn.net/photo.jpg", ""),
    ("https://fbcdn.net.evil.example/photo.jpg", "not a media host"),
    ("https://evilfbcdn.net/photo.jpg", "not a media host"),
    ("https://scontent.xx.fbcdn.net:8443/photo.jpg", "port"),
    ("https://127.0.0.1/photo.jpg", "not a media host"),
    ("https://169.254.169.254/latest/meta-data/", "not a media host"),
    ("https://[::1]/photo.jpg", "not a media host"),
    ("not a url at all", ""),
    ("", ""),
])
async def test_refused_before_any_request(servers, url, why):
    cdn, internal = servers
    with pytest.raises(MediaRefused) as exc:
        await fetch_media(url, policy_for(cdn))
    assert why in str(exc.value)
    assert cdn.hits == [] and internal.hits == []


async def test_other_port_on_the_configured_host_is_another_origin(servers):
    cdn, internal = servers  # same 127.0.0.1, other port: an internal service
    with pytest.raises(MediaRefused):
        await fetch_media(internal.url + "/secret", policy_for(cdn))
    assert internal.hits == []


@pytest.mark.parametrize("path", ["to-other-host", "to-metadata", "to-userinfo"])
async def test_redirect_off_the_allowlist_is_not_followed(servers, path):
    cdn, internal = servers
    with pytest.raises(MediaRefused):
        await fetch_media(cdn.url + "/" + path, policy_for(cdn))
    assert cdn.hits == [path] and internal.hits == []


async def test_redirects_are_bounded(servers):
    cdn, _ = servers
    with pytest.raises(MediaRefused, match="redirects"):
        await fetch_media(cdn.url + "/loop", policy_for(cdn, max_redirects=3))
    assert cdn.hits == ["loop"] * 4


async def test_allowlisted_name_resolving_to_a_private_address_is_refused():
    # "localhost" allowlisted, as if a CDN name rebound to 127.0.0.1: refused at resolution
    policy = MediaPolicy(hosts=("localhost",), max_bytes=CAP)
    with pytest.raises(MediaRefused, match="non-public"):
        await fetch_media("https://localhost/photo.jpg", policy)


@pytest.mark.parametrize("ip", ["127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254",
                                "100.64.0.1", "0.0.0.0", "[::1]", "[fe80::1]", "[fc00::1]",
                                "[::ffff:127.0.0.1]", "[2002:7f00:1::1]", "224.0.0.1"])
async def test_private_ip_literal_is_refused_even_when_allowlisted(ip):
    policy = MediaPolicy(hosts=(URL(f"https://{ip}/").host or "",), max_bytes=CAP)  # as yarl spells it
    with pytest.raises(MediaRefused, match="not public"):
        await fetch_media(f"https://{ip}/photo.jpg", policy)


async def test_resolver_refuses_private_answers_and_exempts_only_configured_origins():
    with pytest.raises(MediaRefused):
        await PublicResolver().resolve("localhost", 443)
    answers = await PublicResolver(frozenset({"localhost"})).resolve("localhost", 443)
    assert answers and all(a["host"] in ("127.0.0.1", "::1") for a in answers)


async def test_declared_size_over_the_cap(servers):
    cdn, _ = servers
    with pytest.raises(MediaTooLarge, match="declared"):
        await fetch_media(cdn.url + "/declared-too-large", policy_for(cdn))


async def test_endless_stream_is_cut_at_the_cap(servers):
    cdn, _ = servers
    with pytest.raises(MediaTooLarge):
        await fetch_media(cdn.url + "/endless", policy_for(cdn, max_bytes=200_000))
    await asyncio.sleep(0.2)
    assert cdn.streamed < 64 * 1024 * 1024  # the server was stopped long before its 128 MiB


async def test_compressed_response_is_refused_not_inflated(servers):
    cdn, _ = servers
    with pytest.raises(MediaRefused, match="compressed"):
        await fetch_media(cdn.url + "/gzip", policy_for(cdn))


async def test_content_length_smaller_than_the_body_never_yields_more_than_declared():
    liar = await RawLiar(declared=100, sent=CAP * 20).start()
    try:  # aiohttp refuses the trailing garbage; had it not, the declared 100 bytes are all we keep
        try:
            media = await fetch_media(liar.url + "/x.jpg", policy_for(liar))  # type: ignore[arg-type]
        except MediaFetchFailed:
            return
        assert len(media.data) == 100
    finally:
        await liar.stop()


async def test_content_length_larger_than_the_body_fails():
    liar = await RawLiar(declared=5000, sent=100).start()
    try:
        with pytest.raises(MediaFetchFailed):
            await fetch_media(liar.url + "/x.jpg", policy_for(liar))  # type: ignore[arg-type]
    finally:
        await liar.stop()


async def test_error_status_and_timeout_fail(servers):
    cdn, _ = servers
    with pytest.raises(MediaFetchFailed, match="404"):
        await fetch_media(cdn.url + "/missing", policy_for(cdn))
    with pytest.raises(MediaFetchFailed, match="timed out"):
        await fetch_media(cdn.url + "/slow", policy_for(cdn, timeout_s=0.3))


# (policy, URLs it allows, URLs it refuses): provider hosts only; a local Bot API root only under /file
POLICY_CASES = [
    pytest.param(meta_policy("https://graph.facebook.com/v21.0", CAP),
                 ("https://scontent.xx.fbcdn.net/v/t1/p.jpg", "https://scontent-sin6-1.xx.fbcdn.net/p.jpg",
                  "https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=1", "https://scontent.cdninstagram.com/x.jpg",
                  "https://graph.facebook.com/v21.0/123"),
                 ("https://graph.facebook.com.evil.example/x", "https://l.facebook.com/l.php?u=http://10.0.0.1",
                  "http://lookaside.fbsbx.com/x", "https://evil.fbsbx.com/x"), id="meta"),
    pytest.param(telegram_policy("https://api.telegram.org", CAP),
                 ("https://api.telegram.org/file/bot123:ABC/photos/file_1.jpg",),
                 ("https://api.telegram.org/bot123:ABC/getMe", "http://api.telegram.org/file/bot1/x",
                  "https://api.telegram.org/file/bot1/../../bot1/getMe"), id="telegram"),
    pytest.param(telegram_policy("http://127.0.0.1:8081/tg", CAP),
                 ("http://127.0.0.1:8081/tg/file/bot1:A/doc.pdf",),
                 ("http://127.0.0.1:8081/tg/bot1:A/getMe", "http://127.0.0.1:8082/tg/file/bot1:A/x",
                  "https://127.0.0.1:8081/tg/file/bot1:A/x"), id="local-bot-api-root"),
]


@pytest.mark.parametrize(("policy", "allowed", "refused"), POLICY_CASES)
def test_policies_allow_only_provider_hosts(policy, allowed, refused):
    for ok in allowed:
        policy.check(URL(ok))
    for bad in refused:
        with pytest.raises(MediaRefused):
            policy.check(URL(bad))


def test_default_provider_origins_get_no_private_address_exemption():
    assert meta_policy("https://graph.facebook.com/v21.0", CAP).private_ok() == frozenset()
    assert telegram_policy("https://api.telegram.org", CAP).private_ok() == frozenset()
    assert telegram_policy("http://bot-api.internal:8081", CAP).private_ok() == {"bot-api.internal"}
