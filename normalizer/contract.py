"""The contract schema shipped in the package, and a fast validator for it.

Every record is checked against the schema before it is enqueued, so the check sits on the
dispatcher's per-record path: jsonschema-rs (compiled Rust) does it in about a third of the CPU
fastjsonschema's generated Python needs. ``date-time`` keeps the gateway's own meaning (what
``datetime.fromisoformat`` reads, with a time zone) and formats are asserted, as fastjsonschema
did; tests/normalizer/test_contract_validator.py checks both validators agree record for record.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import jsonschema_rs

SCHEMA_NAME = "complaint-record.v1.schema.json"
_NAMED_KEYWORDS = frozenset({"required", "additionalProperties"})  # their messages name keys, never values


class ContractViolation(ValueError):
    """A record that the core would not accept."""


@cache
def schema() -> dict[str, Any]:
    text = resources.files("normalizer").joinpath("schema", SCHEMA_NAME).read_text(encoding="utf-8")
    return json.loads(text)


@cache
def _validator() -> tuple[Callable[[Any], None], type[ValueError]]:
    """The compiled check and its error class. Imported here, not with the module: the HTTP process
    names this module (``ContractViolation``) but never validates a record (~9 MB it need not map)."""
    import jsonschema_rs

    compiled = jsonschema_rs.validator_for(schema(), formats={"date-time": _is_datetime}, validate_formats=True)
    return compiled.validate, jsonschema_rs.ValidationError


def _is_datetime(value: str) -> bool:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return parsed.tzinfo is not None


def _describe(exc: jsonschema_rs.ValidationError) -> str:
    """Where and which keyword failed, without the offending value (it may be a phone number)."""
    where = "data" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in exc.instance_path)
    keyword = str(exc.schema_path[-1]) if exc.schema_path else "schema"
    detail = f": {exc.message}" if keyword in _NAMED_KEYWORDS else ""
    return f"{where} fails {keyword}{detail}"


def validate_record(record: dict[str, Any]) -> None:
    """Raise ``ContractViolation`` unless ``record`` is valid against the contract schema."""
    check, invalid = _validator()
    try:
        check(record)
    except invalid as exc:
        raise ContractViolation(_describe(exc)) from None  # type: ignore[arg-type]
    except (ValueError, TypeError, OverflowError) as exc:  # not JSON at all: a non-str key, a lone surrogate
        raise ContractViolation(f"data is not JSON: {type(exc).__name__}") from None
