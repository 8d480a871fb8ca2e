"""Write docs/configuration.md and .env.example from the settings model (``--check``: fail on drift)."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from config.reference import render_env, render_markdown  # noqa: E402

TARGETS = {ROOT / "docs" / "configuration.md": render_markdown, ROOT / ".env.example": render_env}


def main(argv: list[str]) -> int:
    stale = []
    for path, render in TARGETS.items():
        text = render()
        if "--check" in argv:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(str(path.relative_to(ROOT)))
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    if stale:
        print(f"out of date: {', '.join(stale)}; run python scripts/gen_config_reference.py", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
