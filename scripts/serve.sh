#!/usr/bin/env bash
# Set up everything and run Tilery with the web client and the embedded database.
# Any option is passed to `tilery serve` (e.g. --port 9000 --data-dir /srv/tilery).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/tilery serve "$@"
