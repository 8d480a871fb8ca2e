"""The contract check (jsonschema-rs) accepts and refuses exactly what fastjsonschema, the validator
it replaced, does: every golden record, and each of them broken in one place at a time; its
messages say where and which rule, never the offending value."""

from __future__ import annotations

import copy
import random
from collections.abc import Callable
from typing import Any

import fastjsonschema
import pytest

from normalizer.contract import ContractViolation, _is_datetime, schema, validate_record
from normalizer.normalize import record_json
from tests.normalizer import golden

_REFERENCE = fastjsonschema.compile(schema(), formats={"date-time": _is_datetime})

# one-place breakages: (path, new value); each is either valid or refused by the contract
_MUTATIONS: list[tuple[tuple[Any, ...], Any]] = [
    (("id",), "not-a-ulid"), (("id",), "01jd5z8q4g2x0000000000000a"), (("id",), 7),
    (("schema",), "lapor.complaint/2"), (("idempotency_key",), "ab"), (("channel",), "fax"),
    (("received_at",), "2026-11-23T03:00:00"), (("received_at",), "2026-11-23 03:00:00+07:00"),
    (("received_at",), "kemarin"), (("source", "sent_at"), "2026-02-30T00:00:00Z"),
    (("source", "sent_at"), None), (("source", "message_ids"), []), (("source", "message_ids"), [1]),
    (("source", "kind"), "fax"), (("source", "extra"), 1), (("reporter", "msisdn"), "0812"),
    (("reporter", "msisdn"), "+62812345678901234"), (("reporter", "msisdn"), None),
    (("reporter", "identity"), ""), (("reporter", "operator"), 5), (("anonymous",), 0), (("anonymous",), None),
    (("confidential",), "true"), (("classification",), "gossip"), (("title",), ""), (("title",), "x" * 151),
    (("title",), "x" * 150), (("topics",), ["roads", 3]), (("topics",), ("roads",)), (("flags",), ["nope"]),
    (("flags",), ["possible_spam"]), (("location",), None), (("location",), {"text": None}),
    (("attachments",), [{"kind": "image", "mime": None, "filename": None, "size": -1, "sha256": None,
                         "url": None, "ref": None}]),
    (("attachments",), [{"kind": "image", "mime": None, "filename": None, "size": True, "sha256": "ab",
                         "url": None, "ref": None}]),
    (("attachments",), [{"kind": "image", "mime": "image/jpeg", "filename": "a.jpg", "size": 12,
                         "sha256": "0" * 64, "url": None, "ref": "k"}]),
    (("reply_to",), {"channel": "sms", "address": "+628", "private": 1}),
    (("gateway", "version"), None), (("completeness",), {"missing": ["mood"], "asked": [], "answered": None}),
    (("surprise",), 1), (("forwarded_by",), {"identity": "a@b.id"}),
]


def _set(record: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    out = copy.deepcopy(record)
    node = out
    for key in path[:-1]:
        if node.get(key) is None:
            node[key] = {}
        node = node[key]
    node[path[-1]] = value
    return out


def _accepts(check: Callable[[Any], Any], record: Any) -> bool:
    try:
        check(record)
    except (ContractViolation, fastjsonschema.JsonSchemaException):
        return False
    return True


def test_both_validators_agree_on_golden_records_and_their_breakages() -> None:
    cases = golden.texts()
    picked = random.Random(17).sample(range(len(cases)), 120)
    disagree: list[str] = []
    refused = 0
    for i in picked:
        msgs, ctx = golden.case(i, cases[i][1])
        record = record_json(msgs, ctx)
        variants = [record] + [_set(record, path, value) for path, value in _MUTATIONS]
        for n, variant in enumerate(variants):
            ours, theirs = _accepts(validate_record, variant), _accepts(_REFERENCE, variant)
            refused += not ours
            if ours != theirs:
                disagree.append(f"{cases[i][0]} mutation {n - 1}: ours={ours} fastjsonschema={theirs}")
    assert not disagree, disagree[:10]
    assert refused >= 120 * 20  # the breakages really are breakages


@pytest.mark.parametrize("bad", [(("location",), {1: "x"}), ((), "a record"), ((), None)])
def test_what_is_not_json_at_all_is_a_contract_violation(bad: tuple[tuple[str, ...], Any]) -> None:
    msgs, ctx = golden.case(0, golden.texts()[0][1])
    path, value = bad
    with pytest.raises(ContractViolation):
        validate_record(_set(record_json(msgs, ctx), path, value) if path else value)


def test_the_message_names_the_place_and_rule_not_the_value() -> None:
    msgs, ctx = golden.case(0, golden.texts()[0][1])
    record = record_json(msgs, ctx)
    with pytest.raises(ContractViolation) as err:
        validate_record(_set(record, ("reporter", "msisdn"), "08129999777"))
    assert str(err.value) == "data.reporter.msisdn fails pattern"
    assert "0812" not in str(err.value)
    with pytest.raises(ContractViolation) as err:
        validate_record({k: v for k, v in record.items() if k != "title"})
    assert "title" in str(err.value) and "required" in str(err.value)
