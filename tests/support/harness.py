"""Data-driven channel tests (Courier style): each case is a request in, expected answer and
expected stored messages out. Every channel's tests use this same runner.

    CASES = [Case("text message", path="/channels/x", json={...}, status=200,
                  messages=[{"channel": "sms", "sender.id": "0812…", "text": "…"}])]

    @pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
    async def test_cases(gateway, r, case):
        await run_case(gateway, r, case)
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis

from gateway import keys
from normalizer.models import InboundMessage

MISSING = object()


@dataclass
class Case:
    name: str
    path: str
    method: str = "POST"
    query: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    json: Any = MISSING  # JSON body (serialized compactly, as providers do)
    body: bytes | str | None = None  # raw body
    fixture: str | None = None  # file in the channel's fixtures/ folder, used as the raw body
    sign: Callable[[bytes], dict[str, str]] | None = None  # body -> extra headers (signatures)
    status: int | tuple[int, ...] = 200
    response_contains: str | None = None
    response_equals: str | None = None
    messages: list[dict[str, Any]] = field(default_factory=list)  # partial, dotted paths
    stored: int | None = None  # new stream entries; default len(messages)


def resolve(obj: Any, path: str) -> Any:
    cur = obj
    for part in path.split("."):
        if isinstance(cur, dict):
            cur = cur.get(part, MISSING)
        elif isinstance(cur, list) and part.isdigit():
            cur = cur[int(part)] if int(part) < len(cur) else MISSING
        else:
            cur = getattr(cur, part, MISSING)
        if cur is MISSING:
            return MISSING
    return cur


def assert_partial(actual: dict[str, Any], expected: dict[str, Any], label: str = "") -> None:
    for path, want in expected.items():
        got = resolve(actual, path)
        if callable(want) and not isinstance(want, type):
            assert want(got), f"{label}{path}: check failed on {got!r}"
        else:
            assert got == want, f"{label}{path}: expected {want!r}, got {got!r}"


async def stream_tail(r: aioredis.Redis, after: str = "-") -> list[tuple[str, InboundMessage]]:
    entries: Any = await r.xrange(keys.INBOUND_STREAM, min=after)
    out = []
    for eid, f in entries:
        e = eid.decode()
        if after != "-" and e == after:
            continue
        out.append((e, InboundMessage.model_validate_json(f[b"msg"])))
    return out


async def last_id(r: aioredis.Redis) -> str:
    last: Any = await r.xrevrange(keys.INBOUND_STREAM, count=1)
    return last[0][0].decode() if last else "-"


def case_body(case: Case, fixtures_dir: Path | None) -> bytes | None:
    if case.fixture is not None:
        assert fixtures_dir is not None, "fixture cases need the channel's fixtures dir"
        return (fixtures_dir / case.fixture).read_bytes()
    if case.json is not MISSING:
        return json.dumps(case.json, separators=(",", ":"), ensure_ascii=False).encode()
    if isinstance(case.body, str):
        return case.body.encode()
    return case.body


async def run_case(gw: Any, r: aioredis.Redis, case: Case, fixtures_dir: Path | None = None
                   ) -> list[InboundMessage]:
    """Send the case's request to the real app; check status, answer and stored messages."""
    before = await last_id(r)
    body = case_body(case, fixtures_dir)
    headers = dict(case.headers)
    if case.json is not MISSING and "Content-Type" not in headers:
        headers["Content-Type"] = "application/json"
    if case.sign is not None:
        headers.update(case.sign(body or b""))
    status, resp, _h = await gw.request(case.method, case.path, params=case.query, headers=headers, data=body)
    allowed = case.status if isinstance(case.status, tuple) else (case.status,)
    assert status in allowed, f"{case.name}: status {status} not in {allowed}: {resp[:300]!r}"
    if case.response_contains is not None:
        assert case.response_contains in resp.decode("utf-8", "replace"), resp[:300]
    if case.response_equals is not None:
        assert resp.decode().strip() == case.response_equals, resp[:300]
    stored = await stream_tail(r, before)
    want = len(case.messages) if case.stored is None else case.stored
    assert len(stored) == want, f"{case.name}: expected {want} stored message(s), got {len(stored)}"
    for i, expected in enumerate(case.messages):
        assert_partial(stored[i][1].model_dump(mode="json"), expected, f"{case.name} message {i}: ")
    return [m for _e, m in stored]
