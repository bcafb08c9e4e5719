#!/usr/bin/env bash
# Build the web client (web_client/dist) when npm is there and dist is missing or older
# than its sources. Run by setup.sh: building belongs to set-up, `tilery serve` only
# serves what is built. Usage: bash scripts/build_web.sh [WEB_CLIENT_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
web=${1:-web_client}
if ! command -v npm >/dev/null 2>&1 || [ ! -f "$web/package.json" ]; then
  echo "npm is not installed: the web client is not built (the API still works)."
  exit 0
fi
index=$web/dist/index.html
sources=()
for path in src index.html package.json package-lock.json vite.config.ts; do
  [ -e "$web/$path" ] && sources+=("$web/$path")
done
if [ -f "$index" ] && [ -z "$(find "${sources[@]}" -newer "$index" -print -quit)" ]; then
  exit 0  # dist is up to date
fi
if ( cd "$web"
     if [ ! -d node_modules ]; then
       echo "Installing the web client's packages (npm ci) ..."
       npm ci --no-audit --no-fund
     fi
     echo "Building the web client (npm run build) ..."
     npm run build ); then
  exit 0
fi
echo "The web client could not be built; tilery serve will serve the API only." >&2
