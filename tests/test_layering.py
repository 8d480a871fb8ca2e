"""The layering rules of docs/architecture.md, checked on the import statements."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# the running gateway's internals: channels get what they need from the wrapper / service context
GATEWAY_INTERNALS = ("gateway.intake", "gateway.endpoint", "gateway.services", "gateway.context", "gateway.cli",
                     "gateway.app", "gateway.ingest", "gateway.admin", "gateway.health", "gateway.supervisor")


def imports(package: str) -> list[tuple[str, str]]:
    out = []
    for path in (ROOT / package).rglob("*.py"):
        if "tests" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                out += [(str(path.relative_to(ROOT)), node.module)]
                out += [(str(path.relative_to(ROOT)), f"{node.module}.{a.name}") for a in node.names]
            elif isinstance(node, ast.Import):
                out += [(str(path.relative_to(ROOT)), a.name) for a in node.names]
    return out


def _under(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def test_channels_never_import_the_gateway_internals():
    bad = [(f, m) for f, m in imports("channels") if _under(m, GATEWAY_INTERNALS)]
    assert bad == []


def test_the_normalizer_imports_no_channel_gateway_or_dispatcher_code():
    bad = [(f, m) for f, m in imports("normalizer") if _under(m, ("channels", "gateway", "dispatcher"))]
    assert bad == []


def test_the_gateway_reaches_channel_packages_only_through_the_registry():
    bad = [(f, m) for f, m in imports("gateway")
           if _under(m, ("channels",)) and not _under(m, ("channels.core", "channels.registry"))
           and m != "channels"]
    assert bad == []
