"""Data-driven channel tests (Courier style): each case is a request in, expected answer and
expected stored messages out. Every channel's tests use this same runner, and every case also
checks, for free, the channel-log row the request left and the metric deltas it caused
(received/stored/rejected_*), so an endpoint cannot answer right and report wrong.

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

from channels import registry
from gateway import keys, metrics
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
    status: int = 200  # exact: a case that accepts two answers proves neither
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


def endpoint_for(method: str, path: str) -> Any:
    """The registered endpoint that answers ``method path`` (``None``: no route, e.g. 405 cases)."""
    route = path.split("?", 1)[0]
    for ep in registry.endpoints():
        if ep.path == route and method in ep.methods:
            return ep
    return None


async def _counts(r: aioredis.Redis, channel: str) -> dict[str, float]:
    await metrics.flush(r)
    snap = await metrics.read_snapshot(r)
    return {o: metrics.counter_value(snap, metrics.EVENTS.name, channel, o)
            for o in ("received", "stored", "duplicate", "rejected_auth", "rejected_invalid", "quarantined")}


async def run_case(gw: Any, r: aioredis.Redis, case: Case, fixtures_dir: Path | None = None
                   ) -> list[InboundMessage]:
    """Send the case's request to the real app; check status, answer, stored messages, the
    channel-log row and the metric deltas."""
    before = await last_id(r)
    ep = endpoint_for(case.method, case.path)
    counts_before = await _counts(r, ep.channel) if ep is not None else {}
    body = case_body(case, fixtures_dir)
    headers = dict(case.headers)
    if case.json is not MISSING and "Content-Type" not in headers:
        headers["Content-Type"] = "application/json"
    if case.sign is not None:
        headers.update(case.sign(body or b""))
    status, resp, _h = await gw.request(case.method, case.path, params=case.query, headers=headers, data=body)
    assert status == case.status, f"{case.name}: status {status}, expected {case.status}: {resp[:300]!r}"
    if case.response_contains is not None:
        assert case.response_contains in resp.decode("utf-8", "replace"), resp[:300]
    if case.response_equals is not None:
        assert resp.decode().strip() == case.response_equals, resp[:300]
    stored = await stream_tail(r, before)
    want = len(case.messages) if case.stored is None else case.stored
    assert len(stored) == want, f"{case.name}: expected {want} stored message(s), got {len(stored)}"
    for i, expected in enumerate(case.messages):
        assert_partial(stored[i][1].model_dump(mode="json"), expected, f"{case.name} message {i}: ")
    if ep is not None:
        await check_log_and_metrics(gw, r, case, ep.channel, status, len(stored), counts_before)
    return [m for _e, m in stored]


async def check_log_and_metrics(gw: Any, r: aioredis.Redis, case: Case, channel: str, status: int, new: int,
                                before: dict[str, float]) -> None:
    await gw.ctx.channel_log.flush()
    rows = await gw.ctx.channel_log.recent(channel, limit=1)
    assert rows, f"{case.name}: no channel-log row for {channel}"
    row = rows[0]
    assert (row["status"], row["method"], row["path"]) == (status, case.method, case.path.split("?", 1)[0]), row
    assert row.get("stored", 0) == new, f"{case.name}: log row says stored={row.get('stored', 0)}, {new} new"
    after = await _counts(r, channel)
    delta = {k: after[k] - before[k] for k in after}
    auth = 1 if status in (401, 403) else 0
    invalid = 1 if 400 <= status < 500 and not auth else 0
    assert (delta["rejected_auth"], delta["rejected_invalid"]) == (auth, invalid), f"{case.name}: {delta}"
    assert delta["stored"] == new, f"{case.name}: stored counted {delta['stored']}, {new} new"
    assert delta["received"] == new + delta["duplicate"], f"{case.name}: {delta}"
    assert delta["quarantined"] == (1 if row.get("error", "") and "parser failure" in row["error"] else 0)
