"""Releases: licence, changelog, one version, tight pins where library internals are used."""

from __future__ import annotations

import re
import tomllib
from importlib.metadata import version
from pathlib import Path

from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_license_is_mit_and_shipped():
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")
    assert PYPROJECT["project"]["license"] == "MIT" and "LICENSE" in PYPROJECT["project"]["license-files"]


def test_version_comes_from_one_place():
    import gateway
    from normalizer.normalize import GATEWAY_VERSION

    v = PYPROJECT["project"]["version"]
    assert version("lapor-gateway") == v == gateway.__version__ == GATEWAY_VERSION
    hard_coded = [p for p in (ROOT / "gateway").rglob("*.py")
                  if re.search(r"""__version__\s*=\s*["']\d+\.\d+""", p.read_text())]
    assert hard_coded == []


def test_changelog_describes_this_version():
    text = (ROOT / "CHANGELOG.md").read_text()
    assert re.search(rf"^## \[{re.escape(PYPROJECT['project']['version'])}\]", text, re.M)


def test_libraries_whose_internals_we_use_are_pinned_to_one_minor():
    deps = {Requirement(d).name: Requirement(d) for d in PYPROJECT["project"]["dependencies"]}
    for name in ("rq", "tweepy"):
        spec = deps[name].specifier
        lows = [Version(s.version) for s in spec if s.operator == ">="]
        highs = [Version(s.version) for s in spec if s.operator == "<"]
        assert lows and highs, name
        low, high = lows[0], highs[0]
        assert (high.major, high.minor) == (low.major, low.minor + 1), f"{name}: {spec} spans more than one minor"
