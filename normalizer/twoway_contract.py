"""The two-way contracts shipped in the package and fast validators for them.

``lapor.outbound/1`` is what the core POSTs to ``/outbound/messages``; ``lapor.delivery/1`` is
each status the gateway hands back as an RQ job. Both are compiled once by fastjsonschema.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from importlib import resources
from typing import Any

import fastjsonschema

from normalizer.contract import ContractViolation, _is_datetime

OUTBOUND_SCHEMA = "outbound-message.v1.schema.json"
DELIVERY_SCHEMA = "delivery-status.v1.schema.json"


@cache
def schema(name: str) -> dict[str, Any]:
    text = resources.files("normalizer").joinpath("schema", name).read_text(encoding="utf-8")
    return json.loads(text)


@cache
def _validator(name: str) -> Callable[[Any], Any]:
    return fastjsonschema.compile(schema(name), formats={"date-time": _is_datetime})


def outbound_errors(doc: Any) -> list[dict[str, str]]:
    """Field errors of a POSTed outbound message (empty when valid), for the 400 answer.

    fastjsonschema stops at the first error, so each field is also checked on its own against
    its property schema: the core sees every wrong field in one answer, not one per retry.
    """
    try:
        _validator(OUTBOUND_SCHEMA)(doc)
        return []
    except fastjsonschema.JsonSchemaException as exc:
        first = {"field": _field(exc), "error": str(exc)[:300]}
    if not isinstance(doc, dict):
        return [first]
    props: dict[str, Any] = schema(OUTBOUND_SCHEMA)["properties"]
    errors: list[dict[str, str]] = []
    for name in schema(OUTBOUND_SCHEMA)["required"]:
        if name not in doc:
            errors.append({"field": name, "error": "required"})
    for name, value in doc.items():
        sub = props.get(name)
        if sub is None:
            errors.append({"field": str(name)[:100], "error": "unknown field"})
            continue
        try:
            _property_validator(name)(value)
        except fastjsonschema.JsonSchemaException as exc:
            errors.append({"field": name, "error": str(exc).replace("data", name, 1)[:300]})
    return errors or [first]


@cache
def _property_validator(name: str) -> Callable[[Any], Any]:
    return fastjsonschema.compile(schema(OUTBOUND_SCHEMA)["properties"][name],
                                  formats={"date-time": _is_datetime})


def _field(exc: fastjsonschema.JsonSchemaException) -> str:
    path = getattr(exc, "path", None) or []
    return ".".join(str(p) for p in path[1:]) or "(body)"


def validate_delivery(doc: dict[str, Any]) -> None:
    """Raise ``ContractViolation`` unless ``doc`` is a valid ``lapor.delivery/1`` object."""
    try:
        _validator(DELIVERY_SCHEMA)(doc)
    except fastjsonschema.JsonSchemaException as exc:
        raise ContractViolation(str(exc)) from None
