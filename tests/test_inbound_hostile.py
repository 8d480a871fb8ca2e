"""Every authenticated endpoint (read from the channel specs) against hostile credentials and
compression bombs, over a real socket: 401/403/413 with nothing stored and nothing quarantined.

The cases are generated from ``registry.endpoints()`` and each endpoint's ``authenticate``
(``channels.core.verify``), so a new channel is covered without writing a line here.
"""

from __future__ import annotations

import base64
import gzip
import tracemalloc
import zlib
from typing import Any
from urllib.parse import quote_from_bytes

import pytest

from channels import registry
from channels.core.inbound import Endpoint
from channels.core.verify import Bearer, QueryOrBasic, SecretHeader, Signature, hmac_b64, hmac_hex
from gateway import metrics
from gateway.endpoint import body_limit
from tests.support.fixtures import TOKENS
from tests.support.keyspace import stored
from tests.support.rawhttp import raw_request

HUGE = b"A" * 7000  # under aiohttp's 8190-byte header line limit, far over any secret
BODY = b'{"hello": "world"}'


def authenticated() -> list[Endpoint]:
    return [ep for ep in registry.endpoints() if ep.authenticate is not None]


def ep_id(ep: Endpoint) -> str:
    return f"{ep.channel}:{ep.path.rsplit('/', 1)[-1]}"


def valid(ep: Endpoint, body: bytes) -> tuple[bytes, list[tuple[bytes, bytes]]]:
    """Query suffix and headers carrying the right credential for ``body``."""
    auth = ep.authenticate
    if isinstance(auth, Bearer):
        return b"", [(b"Authorization", b"Bearer " + TOKENS[auth.setting].encode())]
    if isinstance(auth, SecretHeader):
        return b"", [(auth.header.encode(), TOKENS[auth.setting].encode())]
    if isinstance(auth, QueryOrBasic):
        return f"?{auth.name}={TOKENS[auth.setting]}".encode(), []
    assert isinstance(auth, Signature)
    secret = TOKENS[auth.setting]
    value = hmac_hex(secret, body) if auth.encoding == "hex" else hmac_b64(secret, body)
    return b"", [(auth.header.encode(), value.encode())]


def forms(ep: Endpoint) -> list[tuple[str, bytes, list[tuple[bytes, bytes]], int]]:
    """(label, query suffix, headers, expected status) for every malformed form of the credential."""
    auth = ep.authenticate
    bad = [("non-ASCII", "é".encode()), ("non-UTF-8", b"\xff\xfe"), ("huge", HUGE), ("wrong", b"wrong")]
    out: list[tuple[str, bytes, list[tuple[bytes, bytes]], int]] = [("absent", b"", [], 401)]
    if isinstance(auth, Bearer):
        out += [(label, b"", [(b"Authorization", b"Bearer " + v)], 403) for label, v in bad]
        out += [("empty", b"", [(b"Authorization", b"Bearer ")], 401),
                ("wrong scheme", b"", [(b"Authorization", b"Basic " + base64.b64encode(b"u:" + TOKENS[
                    auth.setting].encode()))], 401),
                ("non-UTF-8 scheme", b"", [(b"Authorization", b"\xffearer x")], 401)]
    elif isinstance(auth, SecretHeader):
        h = auth.header.encode()
        out += [(label, b"", [(h, v)], 403) for label, v in bad]
        out += [("empty", b"", [(h, b"")], 401)]
    elif isinstance(auth, QueryOrBasic):
        name = auth.name.encode()
        out += [(f"query {label}", b"?" + name + b"=" + quote_from_bytes(v).encode(), [], 403)
                for label, v in bad]
        out += [("query empty", b"?" + name + b"=", [], 401),
                ("basic non-ASCII", b"", [(b"Authorization", "Basic é".encode())], 403),
                ("basic non-UTF-8", b"", [(b"Authorization", b"Basic \xff")], 403),
                ("basic bad base64", b"", [(b"Authorization", b"Basic !!!")], 403),
                ("basic without colon", b"", [(b"Authorization", b"Basic " + base64.b64encode(b"nocolon"))], 403),
                ("basic non-UTF-8 password", b"", [(b"Authorization", b"Basic " + base64.b64encode(b"u:\xff"))],
                 403),
                ("basic huge", b"", [(b"Authorization", b"Basic " + base64.b64encode(b"u:" + HUGE[:4000]))], 403),
                ("bearer scheme", b"", [(b"Authorization", b"Bearer " + TOKENS[auth.setting].encode())], 401)]
    else:
        assert isinstance(auth, Signature)
        h = auth.header.encode()
        out += [(label, b"", [(h, b"sha256=" + v)], 403) for label, v in bad]
        out += [("empty", b"", [(h, b"")], 401), ("no algorithm", b"", [(h, b"deadbeef")], 403),
                ("unknown algorithm", b"", [(h, b"md5=00")], 403), ("non-UTF-8 algorithm", b"", [(h, b"\xff=00")], 403)]
    return out


async def _counted(r: Any, channel: str, outcome: str) -> float:
    await metrics.flush(r)
    return metrics.counter_value(await metrics.read_snapshot(r), metrics.EVENTS.name, channel, outcome)


async def _nothing_kept(r: Any, before: dict[str, int]) -> None:
    """No stream entry, no quarantine, no core job, no key at all beyond counters and the channel log."""
    assert await r.xlen("lapor:inbound") == 0
    assert await r.xlen("lapor:quarantine") == 0
    assert await stored(r) == before


def _port(gw: Any) -> int:
    return int(gw.url.rsplit(":", 1)[1])


@pytest.mark.parametrize("ep", authenticated(), ids=ep_id)
async def test_every_malformed_credential_is_refused_and_nothing_kept(gateway, r, ep):
    before = await _counted(r, ep.channel, "rejected_auth")
    keys_before = await stored(r)
    cases = forms(ep)
    for label, query, headers, expected in cases:
        status, answer = await raw_request(_port(gateway), "POST", ep.path.encode() + query,
                                           [(b"Content-Type", b"application/json"), *headers], BODY)
        assert status == expected, f"{label}: {status} {answer[:200]!r}"
    await _nothing_kept(r, keys_before)
    assert await _counted(r, ep.channel, "rejected_auth") == before + len(cases)
    await gateway.ctx.channel_log.flush()
    rows = await gateway.ctx.channel_log.recent(ep.channel)
    assert sorted(row["status"] for row in rows[:len(cases)]) == sorted(c[3] for c in cases)


@pytest.mark.parametrize("ep", authenticated(), ids=ep_id)
async def test_disabled_channel_refuses_even_the_right_credential(make_gateway, r, ep):
    assert ep.authenticate is not None
    setting = ep.authenticate.setting
    gw = await make_gateway(**{setting: None})
    keys_before = await stored(r)
    query, headers = valid(ep, BODY)
    status, answer = await raw_request(_port(gw), "POST", ep.path.encode() + query,
                                       [(b"Content-Type", b"application/json"), *headers], BODY)
    assert (status, b"channel disabled" in answer) == (403, True)
    await _nothing_kept(r, keys_before)
    # and the status report names the missing variable
    reasons = {st.name: st.reason for st in gw.settings.channel_statuses()}
    assert any(f"LAPOR_{setting.upper()}" in reason for reason in reasons.values())


def _bomb(size: int, encoding: str) -> bytes:
    """``size`` zero bytes, compressed (about 1000:1)."""
    z = zlib.compressobj(9, zlib.DEFLATED, 31 if encoding == "gzip" else 15)
    block = bytes(1 << 20)
    out = [z.compress(block) for _ in range(size >> 20)]
    return b"".join(out) + z.flush()


BOMB = 16 << 20  # inflated size: over every endpoint's limit (the email limit is lowered below)


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
@pytest.mark.parametrize("ep", authenticated(), ids=ep_id)
async def test_compression_bomb_is_413_within_the_endpoint_limit(make_gateway, r, ep, encoding):
    gw = await make_gateway(email_max_body_bytes=1 << 20)
    limit = body_limit(ep, gw.settings)
    keys_before = await stored(r)
    assert limit < BOMB
    bomb = _bomb(BOMB, encoding)
    query, headers = valid(ep, zlib.decompress(bomb, 47))
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        status, answer = await raw_request(_port(gw), "POST", ep.path.encode() + query,
                                           [(b"Content-Type", b"application/json"),
                                            (b"Content-Encoding", encoding.encode()), *headers], bomb)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert status == 413, answer[:200]
    assert peak < limit + (6 << 20), f"inflated {peak} bytes for a {limit}-byte limit"
    await _nothing_kept(r, keys_before)


@pytest.mark.parametrize("ep", [ep for ep in authenticated() if ep.authenticate.before_body], ids=ep_id)
async def test_unauthenticated_bomb_is_refused_before_inflating(gateway, r, ep):
    bomb = gzip.compress(bytes(BOMB))
    keys_before = await stored(r)
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        status, _answer = await raw_request(_port(gateway), "POST", ep.path.encode(),
                                            [(b"Content-Type", b"application/json"),
                                             (b"Content-Encoding", b"gzip")], bomb)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert status == 401
    # aiohttp may inflate a few buffers ahead; never the whole bomb
    assert peak < BOMB // 4, f"{peak} bytes held for an unauthenticated request"
    await _nothing_kept(r, keys_before)


async def test_broken_gzip_is_400_not_quarantined(gateway, r):
    ep = next(e for e in authenticated() if isinstance(e.authenticate, Bearer))
    keys_before = await stored(r)
    query, headers = valid(ep, BODY)
    status, _answer = await raw_request(_port(gateway), "POST", ep.path.encode() + query,
                                        [(b"Content-Type", b"application/json"), (b"Content-Encoding", b"gzip"),
                                         *headers], b"\x1f\x8b\x08\x00garbage-not-deflate")
    assert status == 400
    await _nothing_kept(r, keys_before)


async def test_a_small_gzip_body_is_inflated_and_accepted(gateway, r):
    doc = b'{"id": "gz-1", "text": "Jalan rusak", "reporter": {"phone": "081234567890"}}'
    status, answer = await raw_request(_port(gateway), "POST", b"/channels/http/complaints",
                                       [(b"Content-Type", b"application/json"), (b"Content-Encoding", b"gzip"),
                                        (b"Authorization", b"Bearer " + TOKENS["http_token"].encode())],
                                       gzip.compress(doc))
    assert status == 202, answer
    assert await r.xlen("lapor:inbound") == 1
