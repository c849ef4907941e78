#!/usr/bin/env bash
# Create .venv (if missing) and install the provider with its test and lint tools, pinned by
# requirements-dev.lock (one universal lock for Python 3.10-3.13). Idempotent and quiet when
# everything is already there. Used by demo.sh, test.sh and .ci/run.
#
# Packages come from wherever pip is configured to take them (pip.conf, PIP_INDEX_URL and the
# other PIP_* variables: index, extra indexes, find-links, trusted hosts, cert): install_deps.py
# hands the same settings to uv, and falls back to pip itself. QWENASR_INSTALLER=pip skips uv.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "==> creating .venv with $($PYTHON --version 2>&1) ($(command -v "$PYTHON"))"
  if ! "$PYTHON" -m venv .venv; then
    rm -rf .venv
    # Debian and Ubuntu ship venv's pip bootstrap separately (python3.X-venv).
    venv_pkg=python$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')-venv
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      echo "==> installing $venv_pkg"
      apt-get install -y -qq "$venv_pkg" >/dev/null || { apt-get update -qq && apt-get install -y -qq "$venv_pkg" >/dev/null; }
      "$PYTHON" -m venv .venv
    else
      echo "$PYTHON cannot create a virtual environment; install $venv_pkg (sudo apt-get install $venv_pkg) and run this again" >&2
      exit 1
    fi
  fi
fi
stamp=.venv/.qwenasr-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ] || [ requirements-dev.lock -nt "$stamp" ]; then
  if [ ! -x .venv/bin/uv ] && [ "${QWENASR_INSTALLER:-uv}" = uv ]; then
    # pip reads the user's configuration itself; without uv, install_deps.py uses pip throughout.
    .venv/bin/python -m pip install --quiet --disable-pip-version-check uv \
      || echo "==> uv could not be installed; using pip"
  fi
  echo "==> installing dependencies (pinned in requirements-dev.lock)"
  .venv/bin/python scripts/install_deps.py -r requirements-dev.lock -e .
  touch "$stamp"
fi
