"""The routes the channel registry does not declare (outbound API, admin) and the HTTP layer
itself, against hostile requests over a real socket: refused credentials store nothing whatever
bytes they hold, compression bombs are 413 within a small bound, and over-long request lines or
too many headers are a 4xx on every route, never a reset or a 5xx.

``test_inbound_hostile`` does the same for every endpoint of the registry.
"""

from __future__ import annotations

import asyncio
import base64
import tracemalloc
import zlib
from typing import Any

import pytest

from channels import registry
from tests.support.fixtures import TOKENS
from tests.support.keyspace import stored
from tests.support.rawhttp import exchange, raw_request
from tests.test_inbound_hostile import _port

OUT_TOKEN = "test-outbound-token-0123"
ADMIN = TOKENS["admin_token"].encode()
BAD = [("non-ASCII", "é".encode()), ("non-UTF-8", b"\xff\xfe\x80"), ("huge", b"A" * 7000), ("wrong", b"wrong"),
       ("empty", b"")]
JSON = [(b"Content-Type", b"application/json")]
FORM = [(b"Content-Type", b"application/x-www-form-urlencoded")]


@pytest.fixture
async def gw(make_gateway: Any) -> Any:
    return await make_gateway(outbound_token=OUT_TOKEN)


def _auth_forms(token: bytes) -> list[tuple[str, list[tuple[bytes, bytes]]]]:
    forms: list[tuple[str, list[tuple[bytes, bytes]]]] = [("absent", [])]
    forms += [(f"bearer {label}", [(b"Authorization", b"Bearer " + v)]) for label, v in BAD]
    forms += [(f"raw {label}", [(b"Authorization", v)]) for label, v in BAD if v]
    forms += [("basic é", [(b"Authorization", "Basic é".encode())]),
              ("basic of the token", [(b"Authorization", b"Basic " + base64.b64encode(b"u:" + token))]),
              ("non-UTF-8 scheme", [(b"Authorization", b"\xffearer " + token)]),
              ("token plus a byte", [(b"Authorization", b"Bearer " + token + b"\xff")])]
    return forms


# (method, path, body, content headers, the right token)
BEARER_ROUTES = [
    ("POST", b"/outbound/messages", b'{"id": "m1", "record_id": "r1", "kind": "reply", "text": "x"}', JSON,
     OUT_TOKEN.encode()),
    ("GET", b"/outbound/messages/m1", b"", [], OUT_TOKEN.encode()),
    ("GET", b"/admin/api/health", b"", [], ADMIN),
    ("GET", b"/admin/api/dead", b"", [], ADMIN),
    ("POST", b"/admin/api/dead/replay", b'{"all": true}', JSON, ADMIN),
    ("POST", b"/admin/logout", b"", [], ADMIN + b"x"),
]


@pytest.mark.parametrize(("method", "path", "body", "content", "token"), BEARER_ROUTES,
                         ids=[f"{m} {p.decode()}" for m, p, *_ in BEARER_ROUTES])
async def test_every_malformed_bearer_is_refused_and_nothing_stored(gw, r, method, path, body, content, token):
    before = await stored(r)
    for label, headers in _auth_forms(token):
        status, answer = await raw_request(_port(gw), method, path, [*content, *headers], body)
        assert status in (401, 403), f"{label}: {status} {answer[:200]!r}"
    assert await stored(r) == before


@pytest.mark.parametrize(("label", "value"), [*BAD, ("percent non-UTF-8", b"%FF%FE"), ("plus and percent", b"+%00+"),
                                              ("many fields", b"x&" * 2000 + b"y")])
async def test_login_with_any_token_bytes_is_refused_and_nothing_stored(gw, r, label, value):
    before = await stored(r)
    status, answer = await raw_request(_port(gw), "POST", b"/admin/login", FORM, b"token=" + value)
    assert status == 401, f"{label}: {status} {answer[:200]!r}"
    assert b"Set-Cookie" not in answer
    assert await stored(r) == before


@pytest.mark.parametrize("cookie", [b"\xff\xfe", "é".encode(), b"A" * 7000, b"", b"a.b.c", b'"quoted"'])
async def test_a_forged_session_cookie_is_refused(gw, r, cookie):
    before = await stored(r)
    for method, path, body in (("GET", b"/admin/api/health", b""), ("POST", b"/admin/api/dead/replay", b"all=1")):
        status, answer = await raw_request(_port(gw), method, path, [*FORM, (b"Cookie", b"lapor_admin=" + cookie)],
                                           body)
        assert status == 401, f"{path!r}: {status} {answer[:200]!r}"
    assert await stored(r) == before


def _bomb(size: int, encoding: str) -> bytes:
    z = zlib.compressobj(9, zlib.DEFLATED, 31 if encoding == "gzip" else 15)
    return b"".join(z.compress(bytes(1 << 20)) for _ in range(size >> 20)) + z.flush()


BOMB = 32 << 20  # over the largest body limit (the 30 MiB raw email) once inflated


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
@pytest.mark.parametrize(("path", "content", "headers", "expected"), [
    (b"/outbound/messages", JSON, [(b"Authorization", b"Bearer " + OUT_TOKEN.encode())], 413),
    (b"/outbound/messages", JSON, [], 401),
    (b"/admin/login", FORM, [], 413),
    (b"/admin/api/dead/replay", JSON, [(b"Authorization", b"Bearer " + ADMIN)], 413),
    (b"/admin/api/dead/replay", JSON, [], 401),
], ids=["outbound", "outbound unauthenticated", "admin login", "admin replay", "admin replay unauthenticated"])
async def test_compression_bombs_are_refused_within_a_small_bound(gw, r, path, content, headers, expected, encoding):
    bomb = _bomb(BOMB, encoding)
    before = await stored(r)
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        status, answer = await raw_request(_port(gw), "POST", path,
                                           [*content, (b"Content-Encoding", encoding.encode()), *headers], bomb)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert status == expected, answer[:200]
    # the outbound API's limit is LAPOR_MAX_BODY_BYTES (2 MiB); admin forms 8 KiB, replay 256 KiB
    assert peak < (2 << 20) + (6 << 20), f"{peak} bytes held for {path!r}"
    assert await stored(r) == before


def _every_path() -> list[bytes]:
    paths = {ep.path for ep in registry.endpoints()} | {"/outbound/messages", "/admin/login", "/admin/api/health",
                                                        "/healthz", "/readyz", "/openapi.json"}
    return sorted(p.encode() for p in paths)


@pytest.mark.parametrize("path", _every_path(), ids=lambda p: p.decode())
async def test_over_long_request_line_and_too_many_headers_are_4xx(gw, r, path):
    """A 1 MB query string (a Kannel GET with a huge ``text``) and 20,000 headers: the server answers
    a 4xx before closing, read by a client that reads while it writes."""
    before = await stored(r)
    token = f"token={TOKENS['sms_token']}&".encode()
    long_line = b"GET " + path + b"?" + token + b"text=" + b"a" * (1 << 20) + b" HTTP/1.1\r\nHost: x\r\n\r\n"
    many = (b"POST " + path + b" HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n"
            + b"".join(b"X-H%d: v\r\n" % i for i in range(20000)) + b"\r\n{}")
    for what, request in (("1 MB request line", long_line), ("20,000 headers", many)):
        answer = await asyncio.to_thread(exchange, _port(gw), request, 30)
        assert answer.startswith(b"HTTP/1."), f"{what}: no answer before the close"
        status = int(answer.split()[1])
        assert 400 <= status < 500, f"{what}: {answer[:200]!r}"
    assert await stored(r) == before


@pytest.mark.parametrize("query", [
    b"hub.mode=subscribe&hub.verify_token=%FF%FE&hub.challenge=1",
    b"hub.mode=subscribe&hub.verify_token=\xff\xfe&hub.challenge=1",
    "hub.mode=subscribe&hub.verify_token=é&hub.challenge=1".encode(),
    b"hub.mode=subscribe&hub.verify_token=&hub.challenge=1",
])
async def test_meta_handshake_with_any_token_bytes_is_refused(gw, r, query):
    before = await stored(r)
    answer = await asyncio.to_thread(exchange, _port(gw), b"GET /channels/meta/webhook?" + query
                                     + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 10)
    status = int(answer.split()[1])
    assert status in (400, 401, 403), answer[:200]
    assert b"\r\n\r\n1" not in answer  # the challenge is never echoed
    assert await stored(r) == before


@pytest.mark.parametrize("token", [b"%FF%FE", b"\xff\xfe", "é".encode(), b"A" * 7000, b"", b"%7B%22a%22%3A1%7D"])
async def test_x_crc_with_any_token_bytes_is_refused(gw, r, token):
    before = await stored(r)
    answer = await asyncio.to_thread(exchange, _port(gw), b"GET /channels/twitter/webhook?crc_token=" + token
                                     + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 10)
    status = int(answer.split()[1])
    assert 400 <= status < 500, answer[:200]
    assert b"response_token" not in answer
    assert await stored(r) == before
