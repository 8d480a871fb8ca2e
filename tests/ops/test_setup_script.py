"""scripts/setup.sh as an ordinary user (uid 65534, no sudo, no redis-server on PATH)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOBODY = 65534
TOOLS = ("bash", "env", "id", "dirname", "awk", "tr", "cat", "touch", "rm")

SETPRIV = shutil.which("setpriv") or "setpriv"
pytestmark = pytest.mark.skipif(os.geteuid() != 0 or shutil.which("setpriv") is None,
                                reason="needs root to drop to an ordinary user with setpriv")


@pytest.fixture
def project() -> Iterator[tuple[Path, Path]]:
    """A copy of the setup script in a tree owned by nobody, and a PATH with only basic tools."""
    tmp_path = Path(tempfile.mkdtemp(prefix="lapor-setup-"))  # pytest's tmp is private to root
    proj, bindir = tmp_path / "proj", tmp_path / "bin"
    (proj / "scripts").mkdir(parents=True)
    bindir.mkdir()
    shutil.copy(ROOT / "scripts" / "setup.sh", proj / "scripts" / "setup.sh")
    shutil.copy(ROOT / "pyproject.toml", proj / "pyproject.toml")
    for tool in TOOLS:
        (bindir / tool).symlink_to(shutil.which(tool, path="/usr/bin:/bin"))
    (bindir / "python3").symlink_to("/usr/bin/python3.11")
    for p in (tmp_path, proj, proj / "scripts", bindir):
        os.chown(p, NOBODY, NOBODY)
    os.chown(proj / "scripts" / "setup.sh", NOBODY, NOBODY)
    os.chown(proj / "pyproject.toml", NOBODY, NOBODY)
    yield proj, bindir
    shutil.rmtree(tmp_path, ignore_errors=True)


def run_as_nobody(proj: Path, bindir: Path, **env: str) -> subprocess.CompletedProcess[str]:
    full = {"PATH": str(bindir), "HOME": str(proj), **env}
    return subprocess.run([SETPRIV, f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups",
                           "bash", str(proj / "scripts" / "setup.sh")], env=full, capture_output=True, text=True,
                          timeout=120)


def fake_ready_venv(proj: Path, bindir: Path) -> None:
    """An existing .venv whose install stamp is current: the script's own Redis decision is what is tested."""
    subprocess.run([SETPRIV, f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups",
                    "/usr/bin/python3.11", "-m", "venv", "--without-pip", str(proj / ".venv")], check=True,
                   env={"PATH": str(bindir)}, timeout=60)
    time.sleep(0.01)
    stamp = proj / ".venv" / ".installed"
    stamp.touch()
    os.chown(stamp, NOBODY, NOBODY)
    os.utime(proj / "pyproject.toml", (1, 1))  # older than the stamp


def test_without_root_and_without_redis_it_says_what_to_do(project):
    proj, bindir = project
    out = run_as_nobody(proj, bindir)
    assert out.returncode == 1
    assert "LAPOR_REDIS_URL=redis://" in out.stderr and "apt-get install redis-server" in out.stderr
    assert "sudo" not in out.stdout and not (proj / ".venv").exists()  # stopped before doing anything


def test_without_root_an_external_redis_is_enough(project):
    proj, bindir = project
    fake_ready_venv(proj, bindir)
    out = run_as_nobody(proj, bindir, LAPOR_REDIS_URL="redis://127.0.0.1:6379/0")
    assert out.returncode == 0, out.stderr
    assert "setup: ready (.venv, external Redis from LAPOR_REDIS_URL" in out.stdout


def test_without_root_redis_server_on_path_is_enough(project):
    proj, bindir = project
    fake_ready_venv(proj, bindir)
    (bindir / "redis-server").symlink_to(shutil.which("redis-server") or "/usr/bin/redis-server")
    out = run_as_nobody(proj, bindir)
    assert out.returncode == 0, out.stderr
    assert "setup: ready (.venv, redis-server 7." in out.stdout
