"""Lua scripts that share a prelude: one copy of the command runner, prepended when loaded."""

from __future__ import annotations

from importlib import resources

_RUN_COMMANDS = resources.files("gateway").joinpath("run_commands.lua").read_text(encoding="utf-8")


def with_run_commands(script: str) -> str:
    """``script`` with ``run_commands(i)`` defined before it (RQ's recorded enqueue commands)."""
    return _RUN_COMMANDS + "\n" + script
