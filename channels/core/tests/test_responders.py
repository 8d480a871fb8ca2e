"""The success answers are written without json.dumps but byte for byte as web.json_response wrote them."""

from __future__ import annotations

from aiohttp import web

from channels.core.inbound import default_respond, record_respond
from channels.core.ingest import Accepted

RID = "01KBX3Z8M5Q7W2N4R6T8V0Y1AB"


def _reference(doc: dict[str, object], status: int) -> web.Response:
    return web.json_response(doc, status=status)


def test_record_answers_are_unchanged() -> None:
    for rid in (RID, 'odd"id\\with é'):
        for status, word, code in (("new", "accepted", 202), ("duplicate", "duplicate", 200)):
            got = record_respond([Accepted(rid, status)])  # type: ignore[arg-type]
            want = _reference({"id": rid, "status": word}, code)
            assert (got.status, got.body, got.content_type, got.charset) == \
                (want.status, want.body, want.content_type, want.charset)


def test_batch_answers_are_unchanged() -> None:
    batches = [[], [Accepted("a", "new"), Accepted("b", "duplicate"), Accepted("c", "spooled")],
               [Accepted(str(i), "duplicate") for i in range(12)]]
    for results in batches:
        for respond in (default_respond, record_respond):
            got = respond(results)  # record_respond answers like default_respond unless exactly one
            dup = sum(1 for r in results if r.duplicate)
            want = _reference({"status": "ok", "accepted": len(results) - dup, "duplicates": dup}, 200)
            assert (got.status, got.body, got.content_type) == (want.status, want.body, want.content_type)
