#!/usr/bin/env bash
# One-time setup on a fresh Debian machine: system packages (redis-server for the embedded
# Redis and the tests, python3-venv) and the project's virtual environment in .venv.
# Idempotent: re-running only installs what is missing. Root (or sudo) is needed only to install
# a missing Debian package: with LAPOR_REDIS_URL set (an existing Redis) or redis-server on PATH,
# an ordinary user can set up and run the gateway.
set -euo pipefail
cd "$(dirname "$0")/.."

can_root() { [ "$(id -u)" -eq 0 ] || { command -v sudo >/dev/null && sudo -n true 2>/dev/null; }; }
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

redis_note=""
if command -v redis-server >/dev/null || [ -n "${LAPOR_REDIS_SERVER_BIN:-}" ]; then
  redis_note="redis-server $(${LAPOR_REDIS_SERVER_BIN:-redis-server} --version 2>/dev/null | awk '{print $3}' | tr -d v=)"
elif [ -n "${LAPOR_REDIS_URL:-}" ]; then
  redis_note="external Redis from LAPOR_REDIS_URL (the tests still need redis-server)"
elif can_root; then
  echo "setup: installing redis-server (Debian package) for the embedded Redis and the tests"
  apt_install redis-server
  redis_note="redis-server $(redis-server --version 2>/dev/null | awk '{print $3}' | tr -d v=)"
else
  cat >&2 <<'MSG'
setup: redis-server is not installed, and this user cannot install it (no root, no sudo).
  Either  - use an existing Redis:  export LAPOR_REDIS_URL=redis://HOST:6379/0  and run setup again,
  or      - ask an administrator to run:  apt-get install redis-server
  or      - put a redis-server binary on PATH (or name it in LAPOR_REDIS_SERVER_BIN).
MSG
  exit 1
fi

if [ "${LAPOR_SETUP_BROWSER:-0}" = "1" ] && ! command -v chromium >/dev/null; then
  echo "setup: installing chromium (Debian package) for the dashboard browser test"
  apt_install chromium chromium-driver fonts-dejavu-core || echo "setup: chromium unavailable; browser test will skip" >&2
fi

if [ "${LAPOR_SETUP_PROMTOOL:-0}" = "1" ] && ! command -v promtool >/dev/null && can_root; then
  echo "setup: installing prometheus (Debian package) for promtool, which checks deploy/prometheus rules"
  apt_install prometheus || echo "setup: prometheus unavailable; the rules test checks their structure only" >&2
fi

if [ ! -x .venv/bin/python ]; then
  if ! "$PY" -m venv .venv 2>/dev/null; then
    rm -rf .venv
    if ! can_root; then
      echo "setup: python3 cannot create a virtual environment; ask an administrator to run: apt-get install python3-venv" >&2
      exit 1
    fi
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
echo "setup: ready (.venv, ${redis_note})"
