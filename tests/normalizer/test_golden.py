"""Every golden input still gives the record it gave before (tests/normalizer/golden.py)."""

from __future__ import annotations

import json

from normalizer.contract import validate_record
from tests.normalizer import golden


def test_records_match_the_golden_hashes() -> None:
    expected = json.loads(golden.GOLDEN.read_text(encoding="utf-8"))
    got: dict[str, str] = {}
    for cid, record in golden.records():
        validate_record(record)
        got[cid] = golden.digest(record)
    assert len(got) == len(expected) > 2500
    changed = [cid for cid, h in expected.items() if got.get(cid) != h]
    assert not changed, f"{len(changed)} records changed, e.g. {changed[:10]}"


def test_the_comparison_sees_a_changed_field() -> None:
    _, record = next(golden.records())
    base = golden.digest(record)
    assert golden.digest({**record, "language": "xx"}) == base  # the one field left out
    assert golden.digest({**record, "title": record["title"] + "!"}) != base
    assert golden.digest({**record, "gateway": {**record["gateway"], "version": "0.0.0"}}) != base
