"""The installed package carries every data file the code reads at run time.

``pip install .`` (the Docker image, the contract smoke's fresh venv) copies only the file
types listed in ``[tool.setuptools.package-data]``: a model or script of a new type (the
language model's ``.bin``) would be missing there while every test from the checkout passes.
"""

from __future__ import annotations

import fnmatch
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("gateway", "channels", "normalizer", "dispatcher", "config")


def test_every_data_file_of_the_packages_is_in_the_package_data_globs() -> None:
    conf = tomllib.loads((ROOT / "pyproject.toml").read_text())
    globs = conf["tool"]["setuptools"]["package-data"]["*"]
    data = [p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*")
            if p.is_file() and p.suffix not in (".py", ".pyc") and "__pycache__" not in p.parts
            and "tests" not in p.relative_to(ROOT).parts and "fixtures" not in p.relative_to(ROOT).parts]
    assert any(p.name == "langid-8.bin" for p in data) and any(p.name == "commit.lua" for p in data)
    missing = [str(p.relative_to(ROOT)) for p in data if not any(fnmatch.fnmatch(p.name, g) for g in globs)]
    assert missing == []
