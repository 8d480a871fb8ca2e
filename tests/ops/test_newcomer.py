"""The README's "Getting started" block, run as written from a clean clone (slow: it installs a venv).

Twice: as an ordinary user with no root and no redis-server on PATH but an external Redis
(LAPOR_REDIS_URL), and as root with the embedded default (redis-server from the machine)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.support.redis_proc import free_port

ROOT = Path(__file__).resolve().parents[2]
NOBODY = 65534
TOOLS = ("bash", "env", "id", "dirname", "awk", "tr", "cat", "touch", "rm", "curl", "sleep", "git", "mkdir", "ls")

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]


def readme_block() -> str:
    text = (ROOT / "README.md").read_text()
    section = text[text.index("## Getting started"):]
    return re.search(r"```sh\n(.*?)```", section, re.S).group(1)


def clean_clone(dest: Path) -> Path:
    subprocess.run(["git", "clone", "-q", str(ROOT), str(dest)], check=True, timeout=120)
    return dest


def base_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("LAPOR_") and k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    env.update(extra)
    return env


def run_block(cwd: Path, env: dict[str, str], prefix: list[str], log: Path) -> subprocess.CompletedProcess[str]:
    script = cwd / "newcomer.sh"
    script.write_text("set -euo pipefail\n" + readme_block())
    out = subprocess.run([*prefix, "bash", str(script)], cwd=cwd, env=env, capture_output=True, text=True,
                         timeout=900)
    log.write_text(out.stdout + "\n---\n" + out.stderr)
    return out


def check(out: subprocess.CompletedProcess[str]) -> None:
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert re.search(r'"status":\s*"accepted"', out.stdout), out.stdout[-2000:]
    assert re.search(r"^lapor-gateway \d+\.\d+", out.stdout, re.M)
    assert "overall:" in out.stdout


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("setpriv") is None, reason="needs setpriv as root")
def test_no_root_with_an_external_redis(redis_url, tmp_path):
    home = Path(tempfile.mkdtemp(prefix="lapor-newcomer-"))
    try:
        clone = clean_clone(home / "lapor-gateway")
        bindir = home / "bin"
        bindir.mkdir()
        for tool in TOOLS:
            (bindir / tool).symlink_to(shutil.which(tool, path="/usr/bin:/bin"))
        for name in ("python3", "python3.11"):
            (bindir / name).symlink_to("/usr/bin/python3.11")
        subprocess.run(["chown", "-R", f"{NOBODY}:{NOBODY}", str(home)], check=True)
        pip_index = {"PIP_FIND_LINKS": "/opt/wheels",
                     "PIP_EXTRA_INDEX_URL": "file:///opt/pypi/simple file:///opt/pypi-more/simple"}
        env = {k: v for k, v in base_env().items() if k.startswith(("PIP_", "LANG", "LC_", "TERM"))}
        env.update(pip_index, PATH=str(bindir), HOME=str(home), LAPOR_REDIS_URL=redis_url,
                   LAPOR_HTTP_PORT=str(free_port()), LAPOR_DATA_DIR=str(home / "var"))
        out = run_block(clone, env, [shutil.which("setpriv") or "setpriv", f"--reuid={NOBODY}",
                                     f"--regid={NOBODY}", "--clear-groups"], tmp_path / "nobody.log")
        check(out)
        assert "external Redis from LAPOR_REDIS_URL" in out.stdout
        assert not (home / "var" / "redis").exists()  # no embedded Redis was started
    finally:
        shutil.rmtree(home, ignore_errors=True)


def test_embedded_default(tmp_path):
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server not installed")
    clone = clean_clone(tmp_path / "lapor-gateway")
    out = run_block(clone, base_env(LAPOR_HTTP_PORT=str(free_port())), [], tmp_path / "embedded.log")
    check(out)
    assert (clone / "var" / "redis" / "appendonlydir").is_dir()
