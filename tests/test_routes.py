"""The route written in the core commit is exactly ``Route.to_json`` of the record, read back whole."""

from __future__ import annotations

from typing import Any

from dispatcher import outbound_keys as ok
from dispatcher.core_queue import CommandLog
from dispatcher.routes import Route, route_json, route_of, write_route
from normalizer.normalize import record_json
from tests.normalizer import golden


def _records() -> list[dict[str, Any]]:
    cases = golden.texts()
    out = []
    for i in range(0, len(cases), max(1, len(cases) // 60)):
        msgs, ctx = golden.case(i, cases[i][1])
        out.append(record_json(msgs, ctx))
    return out + [{**r, "reply_to": None, "source": None} for r in out[:5]]  # a channel that cannot answer


def test_route_json_is_the_route_dataclass_json_for_varied_records() -> None:
    records = _records()
    assert any(r["reply_to"] for r in records) and any(not r["reply_to"] for r in records)
    for record in records:
        assert route_json(record) == route_of(record).to_json()
        assert Route.from_json(route_json(record)) == route_of(record)


def test_write_route_queues_the_route_and_last_seen_only_with_a_reply_address() -> None:
    for record in _records():
        log = CommandLog()
        write_route(record, 86400, log)
        first = log.args[:6]
        assert first == [5, "SET", ok.route(record["id"]), route_of(record).to_json(), "EX", 86400]
        if record["reply_to"]:
            rt = record["reply_to"]
            assert log.count == 2 and log.args[8] == ok.last_seen(rt["channel"], rt["address"])
            assert isinstance(log.args[9], int) and log.args[9] > 1_700_000_000
        else:
            assert log.count == 1
