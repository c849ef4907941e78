#!/usr/bin/env bash
# Create .venv (if missing) and install the provider with its test and lint tools.
# Idempotent and quiet when everything is already there. Used by demo.sh, test.sh and .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "==> creating .venv with $($PYTHON --version)"
  "$PYTHON" -m venv .venv
fi
if [ ! -x .venv/bin/uv ]; then
  .venv/bin/python -m pip install --quiet --disable-pip-version-check uv
fi
stamp=.venv/.qwenasr-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ] || [ requirements-dev.lock -nt "$stamp" ]; then
  echo "==> installing dependencies (pinned in requirements-dev.lock)"
  .venv/bin/uv pip install --quiet --python .venv/bin/python -r requirements-dev.lock
  .venv/bin/uv pip install --quiet --python .venv/bin/python --no-deps -e .
  touch "$stamp"
fi
