#!/usr/bin/env bash
# requirements-dev.lock: one universal lock for every supported Python, 3.10 to 3.13, resolved for
# the lowest (a pin that needs a newer Python gets an environment marker and a second pin).
#   bash scripts/lock.sh           re-resolve after changing pyproject.toml (existing pins are kept
#                                  where they still fit; `--upgrade` to take new releases)
#   bash scripts/lock.sh --check   CI: the lock matches pyproject.toml, and installs on 3.10 and
#                                  3.13 (a dry-run install where the machine has that Python, else
#                                  a resolution for that version)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >/dev/null
uv=.venv/bin/uv
compile() { "$uv" pip compile pyproject.toml --extra test --extra lint --universal --python-version 3.10 --quiet "$@"; }

if [ "${1:-}" != --check ]; then
  compile -o requirements-dev.lock "$@"
  exit
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp requirements-dev.lock "$work/lock"
compile -o "$work/lock"
if ! diff <(grep -v '^#' requirements-dev.lock) <(grep -v '^#' "$work/lock"); then
  echo "requirements-dev.lock does not match pyproject.toml: run bash scripts/lock.sh and commit it" >&2
  exit 1
fi
echo "==> requirements-dev.lock matches pyproject.toml"
for version in 3.10 3.13; do
  python=""
  for candidate in "python$version" "$HOME"/.pyenv/versions/"$version".*/bin/python"$version"; do
    if "$candidate" -c '' 2>/dev/null; then python=$candidate; break; fi
  done
  if [ -n "$python" ]; then
    "$python" -m venv --without-pip "$work/venv-$version"
    "$uv" pip install --dry-run --quiet --python "$work/venv-$version/bin/python" -r requirements-dev.lock
    echo "==> requirements-dev.lock installs on $("$python" --version) (dry run)"
  else
    "$uv" pip compile requirements-dev.lock --python-version "$version" --python-platform x86_64-manylinux_2_28 \
      --quiet -o /dev/null
    echo "==> requirements-dev.lock resolves for Python $version (no such interpreter here)"
  fi
done
