"""``gateway/keys.py`` holds every Redis key: no ``"lapor:…"`` literal lives anywhere else."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LITERAL = re.compile(r"""[frbFRB]?["']lapor:""")


def test_no_key_literal_outside_keys_py():
    offenders = []
    for package in ("gateway", "channels", "dispatcher", "normalizer", "config"):
        for path in (ROOT / package).rglob("*.py"):
            if "tests" in path.parts or path == ROOT / "gateway" / "keys.py":
                continue
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if LITERAL.search(line):
                    offenders.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert offenders == []
