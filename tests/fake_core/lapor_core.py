"""Stand-in for the national core's job module: records what RQ hands it."""

from __future__ import annotations

import json
import os
from typing import Any


def receive_complaint(record: dict[str, Any]) -> str:
    with open(os.environ["LAPOR_FAKE_CORE_OUT"], "a", encoding="utf-8") as f:
        f.write(json.dumps(record) + "\n")
    return record["id"]
