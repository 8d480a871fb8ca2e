#!/usr/bin/env bash
# One-time setup on a fresh Debian machine: system packages (redis-server for the embedded
# Redis and the tests, python3-venv) and the project's virtual environment in .venv.
# Idempotent: re-running only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
  echo "setup: need root (or sudo) to run: $*" >&2; return 1; fi; }

apt_updated=0
apt_install() {
  if [ $apt_updated -eq 0 ]; then as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq; apt_updated=1; fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

PY="${PYTHON:-$(command -v python3.11 || command -v python3)}"
if ! "$PY" -c 'import sys; assert sys.version_info >= (3, 11)' 2>/dev/null; then
  echo "setup: Python >= 3.11 is required (found $("$PY" --version 2>&1))" >&2; exit 1
fi

if ! command -v redis-server >/dev/null && [ ! -x /usr/bin/redis-server ] && [ -z "${LAPOR_REDIS_SERVER_BIN:-}" ]; then
  echo "setup: installing redis-server (Debian package) for the embedded Redis and the tests"
  apt_install redis-server
fi

if [ "${LAPOR_SETUP_BROWSER:-0}" = "1" ] && ! command -v chromium >/dev/null; then
  echo "setup: installing chromium (Debian package) for the dashboard browser test"
  apt_install chromium chromium-driver fonts-dejavu-core || echo "setup: chromium unavailable; browser test will skip" >&2
fi

if [ ! -x .venv/bin/python ]; then
  if ! "$PY" -m venv .venv 2>/dev/null; then
    rm -rf .venv
    apt_install python3-venv
    "$PY" -m venv .venv
  fi
fi

stamp=.venv/.installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip >/dev/null 2>&1 || true
  .venv/bin/python -m pip install -q --disable-pip-version-check -e '.[test]'
  touch "$stamp"
fi
echo "setup: ready (.venv, redis-server $(redis-server --version 2>/dev/null | awk '{print $3}' | tr -d v=))"
