#!/usr/bin/env bash
# Install the Debian packages the end-to-end tests need (idempotent).
#
#   postgresql      -> throwaway PostgreSQL cluster (initdb/pg_ctl) for the CeleryExecutor scale-out test
#   redis-server    -> Celery broker for the scale-out test
#   chromium,
#   chromium-driver -> headless browser for the api-server UI test
#
# Only packages that are not installed yet are requested, and `apt-get update` runs at most once,
# only when something is missing. Without root privileges the script prints a message and exits 0,
# so it is safe to call from CI scripts and developer machines alike.
set -euo pipefail

PACKAGES=(postgresql redis-server chromium chromium-driver)

if [[ "$(id -u)" -ne 0 ]]; then
    echo "install-os-packages: not root, skipping installation of: ${PACKAGES[*]}" >&2
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-os-packages: apt-get not available (not Debian/Ubuntu?), skipping" >&2
    exit 0
fi

missing=()
for pkg in "${PACKAGES[@]}"; do
    # `dpkg-query` reports "install ok installed" only for fully installed packages.
    status="$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)"
    if [[ "$status" != "install ok installed" ]]; then
        missing+=("$pkg")
    fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
    echo "install-os-packages: all present (${PACKAGES[*]})"
    exit 0
fi

echo "install-os-packages: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# --no-install-recommends keeps the footprint small; policy-rc.d-less containers may try to start
# the services, which is harmless: the tests start their own instances on free ports.
apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "install-os-packages: done"
