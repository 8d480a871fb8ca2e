"""Fuzz every inbound endpoint of the registry (plus the outbound API and the admin login) with
Hypothesis over real sockets, against the real app and a real Redis: random and mutated bodies
(from each channel's ``fixtures/``), random Content-Type / Content-Encoding and credentials
(absent, right, or random bytes).

For every request: an HTTP answer within the per-request timeout, never a 5xx, nothing
quarantined (a parser crash is a bug even when caught), and — unless the credential was the
right one — no key written or grown beyond counters and the channel log. New channels are
covered by being in the registry. ``FUZZ_EXAMPLES`` examples per endpoint here (CI); the
``slow`` variant runs ``SLOW_EXAMPLES``.
"""

from __future__ import annotations

import asyncio
import gzip
import importlib
import json
import threading
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from channels import registry
from channels.core.verify import Bearer, QueryOrBasic, SecretHeader, Signature, hmac_b64, hmac_hex
from tests.support.fixtures import TOKENS, GatewayUnderTest
from tests.support.keyspace import stored_sync
from tests.support.rawhttp import exchange

FUZZ_EXAMPLES = 60
SLOW_EXAMPLES = 400
TIMEOUT_S = 20  # per request: a hang fails the example
OUT_TOKEN = "test-outbound-token-0123"


@dataclass(frozen=True)
class Route:
    """What the fuzzer needs to know about one route."""

    name: str
    path: str
    methods: tuple[str, ...]
    auth: Any  # a channels.core.verify authenticator, "outbound", "admin-form" or None (handshake)
    fixtures: tuple[bytes, ...]


def _fixtures_of(package: str) -> tuple[bytes, ...]:
    folder = Path(importlib.import_module(package).__file__ or "").parent / "fixtures"
    files = sorted(p for p in folder.glob("*") if p.is_file() and p.suffix != ".py") if folder.is_dir() else []
    return tuple(p.read_bytes()[:64 * 1024] for p in files[:12])


def routes() -> list[Route]:
    out: list[Route] = []
    for package in registry.CHANNEL_PACKAGES:
        spec = importlib.import_module(package).SPEC
        fixtures = _fixtures_of(package)
        for ep in spec.endpoints():
            kind = type(ep.authenticate).__name__ if ep.authenticate else "handshake"
            out.append(Route(f"{ep.channel}:{ep.path.rsplit('/', 1)[-1]}:{kind}", ep.path, ep.methods,
                             ep.authenticate, fixtures))
    out.append(Route("outbound", "/outbound/messages", ("POST",), "outbound",
                     (b'{"id": "m1", "record_id": "r1", "kind": "reply", "text": "Terima kasih"}',)))
    out.append(Route("admin-login", "/admin/login", ("POST",), "admin-form", (b"token=x",)))
    return out


# ------------------------------------------------------------------------------------------ strategies
def _mutate(data: st.DataObject, blob: bytes) -> bytes:
    b = bytearray(blob)
    for _ in range(data.draw(st.integers(0, 6), label="mutations")):
        op = data.draw(st.sampled_from(["flip", "insert", "delete", "truncate", "duplicate"]))
        pos = data.draw(st.integers(0, max(0, len(b) - 1)))
        if op == "flip" and b:
            b[pos] = data.draw(st.integers(0, 255))
        elif op == "insert":
            b[pos:pos] = data.draw(st.binary(max_size=40))
        elif op == "delete":
            del b[pos:pos + data.draw(st.integers(1, 50))]
        elif op == "truncate":
            del b[pos:]
        elif op == "duplicate":
            b[pos:pos] = b[pos:pos + data.draw(st.integers(1, 200))]
    return bytes(b)


JSONISH = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
                       lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner,
                                                                                    max_size=4), max_leaves=15)
CONTENT_TYPES = [b"application/json", b"application/x-www-form-urlencoded", b"message/rfc822", b"text/plain",
                 b"multipart/form-data; boundary=x", b"application/json; charset=\xff", "é/é".encode(), b""]
ENCODINGS = [None, b"gzip", b"deflate", b"br", b"gzip, gzip", b"identity", b"\xff"]


def _body(data: st.DataObject, route: Route) -> bytes:
    kind = data.draw(st.sampled_from(["fixture", "mutated", "random", "json"]), label="body kind")
    if kind == "random" or not route.fixtures:
        return data.draw(st.binary(max_size=2048), label="random body")
    if kind == "json":
        return json.dumps(data.draw(JSONISH, label="json")).encode()
    blob = data.draw(st.sampled_from(route.fixtures), label="fixture")
    return blob if kind == "fixture" else _mutate(data, blob)


def _credential(route: Route, body: bytes, choice: str, junk: bytes) -> tuple[bytes, list[tuple[bytes, bytes]]]:
    """(query, headers): the right credential, random bytes in its place, or nothing."""
    auth = route.auth
    if choice == "absent" or auth is None:
        return b"", []
    right = choice == "right"
    if auth == "outbound":
        return b"", [(b"Authorization", b"Bearer " + (OUT_TOKEN.encode() if right else junk))]
    if auth == "admin-form":
        return b"", []
    if isinstance(auth, Bearer):
        return b"", [(b"Authorization", b"Bearer " + (TOKENS[auth.setting].encode() if right else junk))]
    if isinstance(auth, SecretHeader):
        return b"", [(auth.header.encode(), TOKENS[auth.setting].encode() if right else junk)]
    if isinstance(auth, QueryOrBasic):
        from urllib.parse import quote_from_bytes

        value = TOKENS[auth.setting].encode() if right else quote_from_bytes(junk).encode()
        return b"?" + auth.name.encode() + b"=" + value, []
    assert isinstance(auth, Signature)
    secret = TOKENS[auth.setting]
    sig = (hmac_hex(secret, body) if auth.encoding == "hex" else hmac_b64(secret, body)).encode()
    return b"", [(auth.header.encode(), sig if right else b"sha256=" + junk)]


_HEADER_SAFE = st.binary(max_size=64).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b""))


# ------------------------------------------------------------------------------------------ the gateway
class ThreadedGateway:
    """The real app on its own event loop in a thread, so a synchronous Hypothesis test can call it."""

    def __init__(self, gw_settings: Any) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.gw = asyncio.run_coroutine_threadsafe(GatewayUnderTest(gw_settings).start(), self.loop).result(60)
        self.port = int(self.gw.url.rsplit(":", 1)[1])

    def close(self) -> None:
        asyncio.run_coroutine_threadsafe(self.gw.stop(), self.loop).result(60)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@pytest.fixture
def threaded(make_settings: Any) -> Iterator[ThreadedGateway]:
    gw = ThreadedGateway(make_settings(outbound_token=OUT_TOKEN))
    yield gw
    gw.close()


def _fuzz(route: Route, threaded: ThreadedGateway, rsync: Any, examples: int) -> None:
    @settings(max_examples=examples, deadline=None, database=None, derandomize=examples == FUZZ_EXAMPLES,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                     HealthCheck.data_too_large])
    @given(data=st.data())
    def one(data: st.DataObject) -> None:
        method = data.draw(st.sampled_from([*route.methods, "POST", "GET", "PUT"]), label="method")
        body = _body(data, route) if method != "GET" else b""
        choice = data.draw(st.sampled_from(["absent", "right", "junk"]), label="credential")
        junk = data.draw(_HEADER_SAFE, label="junk credential")
        query, headers = _credential(route, body, choice, junk)
        if route.auth is None:  # handshakes: random query strings
            query = b"?" + data.draw(st.binary(max_size=200), label="query").replace(b" ", b"%20").replace(
                b"\r", b"").replace(b"\n", b"").replace(b"#", b"")
        wire = body
        encoding = data.draw(st.sampled_from(ENCODINGS), label="encoding") if body else None
        if encoding is not None:
            headers.append((b"Content-Encoding", encoding))
            if encoding == b"gzip":
                wire = gzip.compress(body)
            elif encoding == b"deflate":
                wire = zlib.compress(body)
        headers.append((b"Content-Type", data.draw(st.sampled_from(CONTENT_TYPES), label="content type")))
        for _ in range(data.draw(st.integers(0, 3), label="extra headers")):
            name = data.draw(st.sampled_from([b"X-Forwarded-For", b"Forwarded", b"X-Request-ID", b"Cookie",
                                              b"Authorization", b"X-Hub-Signature-256"]))
            headers.append((name, data.draw(_HEADER_SAFE)))
        # the credential comes first: a later duplicate header does not replace it
        authenticated = choice == "right" and route.auth is not None and route.auth != "admin-form"
        before = stored_sync(rsync)
        quarantined = rsync.xlen("lapor:quarantine")
        head = [method.encode() + b" " + route.path.encode() + query + b" HTTP/1.1", b"Host: 127.0.0.1",
                b"Connection: close", b"Content-Length: " + str(len(wire)).encode()]
        head += [name + b": " + value for name, value in headers]
        answer = exchange(threaded.port, b"\r\n".join(head) + b"\r\n\r\n" + wire, TIMEOUT_S)
        assert answer.startswith(b"HTTP/1."), f"no answer within {TIMEOUT_S}s: {answer[:100]!r}"
        status = int(answer.split()[1])
        assert status < 500, answer[:400]
        assert rsync.xlen("lapor:quarantine") == quarantined, "a parser crashed (quarantined)"
        if not authenticated:
            assert stored_sync(rsync) == before, f"unauthenticated write ({status})"

    one()


ROUTES = routes()


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.name)
def test_fuzz_endpoint(route: Route, threaded: ThreadedGateway, rsync: Any) -> None:
    _fuzz(route, threaded, rsync, FUZZ_EXAMPLES)


@pytest.mark.slow
@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.name)
def test_fuzz_endpoint_slow(route: Route, threaded: ThreadedGateway, rsync: Any) -> None:
    _fuzz(route, threaded, rsync, SLOW_EXAMPLES)
