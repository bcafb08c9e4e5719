#!/usr/bin/env bash
# Run every test: the server's (pytest) and the web client's (Vitest, then end-to-end
# in headless Chromium). Installs what is missing first.
set -euo pipefail
cd "$(dirname "$0")/.."
missing=()
command -v memcached >/dev/null 2>&1 || missing+=(memcached)
# the cluster tests start nginx and redis-server (scripts/cluster.sh)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
bash scripts/apt_install.sh ${missing[@]+"${missing[@]}"}
bash scripts/setup.sh
status=0
.venv/bin/python -m pytest plugin_tests -q -p no:cacheprovider "$@" || status=$?
if [ -f web_client/package.json ] && [ $# -eq 0 ]; then
  (cd web_client && { [ -d node_modules ] || npm ci --no-audit --no-fund; } \
    && npm run --silent typecheck && npm run --silent test && npm run --silent build \
    && TILERY_CMD="$PWD/../.venv/bin/tilery" npm run --silent e2e) || status=$?
fi
exit $status
