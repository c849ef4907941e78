#!/usr/bin/env bash
# Run the whole test suite: unit, integration (emulator over HTTP), real-Airflow DAG runs, and the
# end-to-end tests that start Airflow's components (and PostgreSQL, Redis, Chromium) on 127.0.0.1.
# Extra arguments go to pytest, e.g. `bash scripts/test.sh tests/unit -x`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-os-packages.sh
bash scripts/setup.sh
exec .venv/bin/python -m pytest "$@"
