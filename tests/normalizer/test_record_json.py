"""``record_json`` (what the dispatcher enqueues, built without the pydantic models) is exactly the
model's contract dict, key order included, for every golden input; a record that breaks the
contract is refused by the schema check the dispatcher runs on it."""

from __future__ import annotations

import json

import pytest

from normalizer.contract import ContractViolation, validate_record
from normalizer.normalize import normalize, record_json
from tests.normalizer import golden


def _dumped(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)  # keeps key order: the bytes the core queue gets


def test_record_json_is_the_models_contract_dict_for_every_golden_input() -> None:
    expected = json.loads(golden.GOLDEN.read_text(encoding="utf-8"))
    differ: list[str] = []
    for i, (cid, text) in enumerate(golden.texts()):
        msgs, ctx = golden.case(i, text)
        fast = record_json(msgs, ctx)
        validate_record(fast)
        if _dumped(fast) != _dumped(normalize(msgs, ctx).to_json_dict()) or golden.digest(fast) != expected[cid]:
            differ.append(cid)
    assert not differ, f"{len(differ)} records differ, e.g. {differ[:10]}"


def test_a_record_breaking_the_contract_is_refused_by_the_schema_check() -> None:
    msgs, ctx = golden.case(0, golden.texts()[0][1])
    msgs[0].id = "not-a-ulid"  # the models used to refuse this inside normalize(); now the schema does
    record = record_json(msgs, ctx)
    with pytest.raises(ContractViolation):
        validate_record(record)
    msgs[0].id = golden._RID
    bad = record_json(msgs, ctx)
    bad["reporter"]["msisdn"] = "0812"
    with pytest.raises(ContractViolation):
        validate_record(bad)
