"""/openapi.json: generated from the request models; real requests and answers validate against it."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import orjson
import pytest

from tests.support.fixtures import TOKENS

API = {"Authorization": f"Bearer {TOKENS['http_token']}"}
PATH = "/channels/http/complaints"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
async def spec(gateway):
    status, body, headers = await gateway.get("/openapi.json")
    assert status == 200 and headers["Content-Type"].startswith("application/json")
    return orjson.loads(body)


def validator(spec: dict, ref: dict) -> jsonschema.Draft202012Validator:
    schema = dict(ref, components=spec["components"])  # $refs resolve inside the document
    return jsonschema.Draft202012Validator(schema)


def test_document_shape(spec):
    jsonschema.Draft202012Validator.check_schema(spec["components"]["schemas"]["ComplaintIn"])
    op = spec["paths"][PATH]["post"]
    assert spec["openapi"].startswith("3.1") and op["security"] == [{"bearer": []}]
    assert {"200", "202", "400", "401", "413", "503"} <= set(op["responses"])


VALID = [
    {"id": "oa-1", "text": "Jalan rusak", "reporter": {"phone": "081234567890"}},
    {"id": "oa-2", "text": "Sampah menumpuk", "reporter": {"email": "warga@example.id", "name": "Warga"},
     "anonymous": True, "location": {"lat": -6.2, "lon": 106.8, "text": "Jakarta"},
     "attachments": [{"url": "https://example.id/a.jpg", "mime": "image/jpeg"}],
     "sent_at": "2026-01-02T03:04:05+07:00"},
]
INVALID = [
    {"text": "no id", "reporter": {}},
    {"id": "oa-3", "text": "", "reporter": {}},
    {"id": "oa-4", "text": "x", "reporter": {}, "location": {"lat": 91}},
]


async def test_real_requests_and_answers_match_the_document(gateway, spec):
    op = spec["paths"][PATH]["post"]
    req = validator(spec, op["requestBody"]["content"]["application/json"]["schema"])
    fixture = orjson.loads((ROOT / "channels" / "api" / "fixtures" / "agency-full.json").read_bytes())
    for doc in [*VALID, fixture]:
        req.validate(doc)
        status, body, _h = await gateway.post(PATH, json=doc, headers=API)
        assert status == 202
        validator(spec, op["responses"]["202"]["content"]["application/json"]["schema"]).validate(orjson.loads(body))
    status, body, _h = await gateway.post(PATH, json=VALID[0], headers=API)
    assert status == 200 and str(status) in op["responses"]
    for doc in INVALID:
        assert not req.is_valid(doc)  # the document refuses what the endpoint refuses
        status, body, _h = await gateway.post(PATH, json=doc, headers=API)
        assert status == 400
        validator(spec, op["responses"]["400"]["content"]["application/json"]["schema"]).validate(orjson.loads(body))
    status, body, _h = await gateway.post(PATH, json=VALID[0], headers={})
    assert status == 401
    validator(spec, op["responses"]["401"]["content"]["application/json"]["schema"]).validate(orjson.loads(body))
    status, body, _h = await gateway.post(PATH, json=VALID[0], headers={"Authorization": "Bearer no"})
    assert status == 403
    validator(spec, op["responses"]["403"]["content"]["application/json"]["schema"]).validate(orjson.loads(body))
