"""docs/configuration.md and .env.example are generated from the settings model and must not drift."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from pydantic import SecretStr

from config.reference import DESCRIPTIONS, render_env, render_markdown
from config.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def test_every_setting_is_described_once():
    described = [name for group in DESCRIPTIONS.values() for name in group]
    assert len(described) == len(set(described))
    assert set(described) == set(Settings.model_fields), "describe new settings in config/reference.py"


def test_files_are_up_to_date():
    assert (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8") == render_markdown()
    assert (ROOT / ".env.example").read_text(encoding="utf-8") == render_env()
    check = subprocess.run([sys.executable, "scripts/gen_config_reference.py", "--check"], cwd=ROOT,
                           capture_output=True, text=True, timeout=60)
    assert check.returncode == 0, check.stderr


def test_every_variable_default_and_secret_is_listed():
    env = (ROOT / ".env.example").read_text(encoding="utf-8")
    md = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    for name, field in Settings.model_fields.items():
        var = "LAPOR_" + name.upper()
        m = re.search(rf"^#{var}=(.*)$", env, re.M)
        assert m, var
        default = field.default
        if default is not None and not isinstance(default, bool):
            assert m.group(1) == str(default), var
        row = next(line for line in md.splitlines() if line.startswith(f"| `{var}` |"))
        is_secret = "SecretStr" in str(field.annotation) or field.annotation is SecretStr
        assert row.split("|")[3].strip() == ("yes" if is_secret else "no"), var
    secrets = [n for n, f in Settings.model_fields.items() if "SecretStr" in str(f.annotation)]
    assert len(secrets) >= 20 and "admin_token" in secrets and "metrics_token" in secrets


def test_a_new_setting_without_a_description_fails_the_check(monkeypatch):
    from pydantic.fields import FieldInfo

    monkeypatch.setitem(Settings.model_fields, "brand_new", FieldInfo(annotation=str, default="x"))
    described = {name for group in DESCRIPTIONS.values() for name in group}
    assert set(Settings.model_fields) != described
