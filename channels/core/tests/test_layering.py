"""Channels depend on the neutral contracts, never on the dispatcher or the command line."""

from __future__ import annotations

import ast
from pathlib import Path

CHANNELS = Path(__file__).resolve().parents[2]
FORBIDDEN = ("dispatcher", "gateway.cli")


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_no_channel_module_imports_the_dispatcher_or_the_cli():
    sources = [p for p in CHANNELS.rglob("*.py") if "tests" not in p.relative_to(CHANNELS).parts]
    assert len(sources) > 30  # the walk found the channel packages
    offenders = sorted(f"{p.relative_to(CHANNELS)}: {m}" for p in sources for m in imported_modules(p)
                       if any(m == f or m.startswith(f + ".") for f in FORBIDDEN))
    assert offenders == []
