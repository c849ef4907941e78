#!/usr/bin/env bash
# The floor job: the oldest Airflow this provider supports (pyproject.toml's apache-airflow>=),
# installed with the pins Airflow's constraints file gives it. That file lives on GitHub, which CI
# cannot reach, so requirements-floor.lock holds the same pins (scripts/floor-constraints.txt says
# which, and why). In .venv-floor/:
#   1. Airflow and the test tools from requirements-floor.lock;
#   2. the provider's built wheel, after proving that installing it with its dependencies would
#      install nothing else (its requirements force no upgrade of Airflow's pinned dependencies);
#   3. the unit, integration and `airflow dags test` suites (extra arguments go to pytest).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
PYTHON=${PYTHON:-python3}
venv=.venv-floor
stamp=$venv/.qwenasr-installed
if [ ! -f "$stamp" ] || [ requirements-floor.lock -nt "$stamp" ]; then
  rm -rf "$venv"
  echo "==> creating $venv with $($PYTHON --version 2>&1)"
  "$PYTHON" -m venv "$venv"
  "$venv/bin/python" scripts/install_deps.py --uv .venv/bin/uv -r requirements-floor.lock
  touch "$stamp"
fi
echo "==> $("$venv/bin/airflow" version 2>/dev/null | tail -n 1 | sed 's/^/Airflow /')"

dist=$(mktemp -d)
trap 'rm -rf "$dist"' EXIT
"$venv/bin/python" -m pip wheel --quiet --disable-pip-version-check --no-deps --wheel-dir "$dist" .
wheel=$(ls "$dist"/*.whl)
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --dry-run --report "$dist/report.json" "$wheel"
"$venv/bin/python" - "$dist/report.json" <<'PY'
import json, sys
wanted = [item["metadata"]["name"] + "==" + item["metadata"]["version"] for item in json.load(open(sys.argv[1]))["install"]]
others = [name for name in wanted if not name.startswith("airflow-provider-qwenasr==")]
if others:
    sys.exit(f"installing the wheel beside the floor's pins would also install or upgrade: {', '.join(others)}")
print(f"==> the wheel installs on the floor's pins without changing any: {', '.join(wanted)}")
PY
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps --force-reinstall "$wheel"
echo "==> unit, integration and dags suites on the floor"
exec "$venv/bin/python" -m pytest tests/unit tests/integration tests/dags "$@"
