"""``/openapi.json`` describes the outbound API with the schema the endpoint enforces; real
requests and the gateway's real answers validate against it."""

from __future__ import annotations

from typing import Any

import jsonschema
import orjson
import redis

from channels.sms.tests.conftest import eventually
from tests.twoway.support import AUTH, _async, outbound, sms_record


def validator(spec: dict[str, Any], ref: dict[str, Any]) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(dict(ref, components=spec["components"]),
                                           format_checker=jsonschema.FormatChecker())


def answer(spec: dict[str, Any], op: dict[str, Any], status: int, body: bytes) -> None:
    assert str(status) in op["responses"], status
    validator(spec, op["responses"][str(status)]["content"]["application/json"]["schema"]).validate(
        orjson.loads(body))


async def test_outbound_api_requests_and_answers_match_the_document(twoway: Any, rsync: redis.Redis) -> None:
    status, body, _ = await twoway.get("/openapi.json")
    spec = orjson.loads(body)
    post = spec["paths"]["/outbound/messages"]["post"]
    get = spec["paths"]["/outbound/messages/{id}"]["get"]
    assert post["security"] == [{"bearer": []}] and {"202", "200", "400", "404", "422"} <= set(post["responses"])
    req = validator(spec, post["requestBody"]["content"]["application/json"]["schema"])
    rid = await sms_record(twoway, rsync)

    good = [outbound("oa-out-1", rid), outbound("oa-out-2", rid, kind="question", expects_reply=True,
                                               not_after="2099-01-01T00:00:00Z")]
    for doc in good:
        req.validate(doc)
        status, body, _ = await twoway.post("/outbound/messages", json=doc, headers=AUTH)
        assert status == 202
        answer(spec, post, status, body)
    status, body, _ = await twoway.post("/outbound/messages", json=good[0], headers=AUTH)
    assert status == 200
    answer(spec, post, status, body)

    bad = [{**good[0], "id": "has space"}, {**good[0], "kind": "gossip"}, {**good[0], "text": ""},
           {**good[0], "extra": 1}, {k: v for k, v in good[0].items() if k != "record_id"}]
    for doc in bad:
        assert not req.is_valid(doc)  # the document refuses what the endpoint refuses
        status, body, _ = await twoway.post("/outbound/messages", json=doc, headers=AUTH)
        assert status == 400
        answer(spec, post, status, body)
    status, body, _ = await twoway.post("/outbound/messages", json=outbound("oa-out-3", "01JNOSUCHRECORD"),
                                        headers=AUTH)
    assert status == 404
    answer(spec, post, status, body)
    status, body, _ = await twoway.post("/outbound/messages", json=good[0], headers={"Authorization": "Bearer no"})
    assert status == 403
    answer(spec, post, status, body)

    await eventually(lambda: _async(rsync.hget("lapor:out:oa-out-1", "status") == b"sent"))
    status, body, _ = await twoway.get("/outbound/messages/oa-out-1", headers=AUTH)
    assert status == 200
    answer(spec, get, status, body)
    status, body, _ = await twoway.get("/outbound/messages/oa-none", headers=AUTH)
    assert status == 404
    answer(spec, get, status, body)
