#!/usr/bin/env bash
# Run the reference peer's benchmark scripts (../shared/peer/bench_*.py) against Tilery.
# Starts a fresh Tilery with the embedded database on a scratch directory, runs the
# scripts with BASE_URL pointing at it, prints their JSON lines, then stops it.
# Set BASE_URL to benchmark a server that is already running instead (e.g. the peer
# Girder at http://127.0.0.1:8089/api/v1), so both are measured in one run.
# Env: BENCHES (default "upload tiles annotations crud"), BENCH_TMP, PORT, and the
# peer scripts' own variables (N_TILES, THREADS, ANN_SIZES, SKIP_CONVERT, ...).
set -euo pipefail
cd "$(dirname "$0")/.."
PEER_DIR=${PEER_DIR:-../shared/peer}
PY=${PY:-.venv/bin/python}
BENCHES=${BENCHES:-upload tiles annotations crud}
export BENCH_TMP=${BENCH_TMP:-/tmp/tilery-bench}
mkdir -p "$BENCH_TMP"
started=
if [ -z "${BASE_URL:-}" ]; then
  PORT=${PORT:-18321}
  DATA=$(mktemp -d /tmp/tilery-bench-data.XXXX)
  .venv/bin/tilery serve --port "$PORT" --data-dir "$DATA" --no-build > "$DATA/serve.log" 2>&1 &
  started=$!
  trap 'kill $started 2>/dev/null; wait $started 2>/dev/null; rm -rf "$DATA"' EXIT
  for _ in $(seq 120); do
    curl -sf "http://127.0.0.1:$PORT/api/v1/system/version" >/dev/null && break
    sleep 0.5
  done
  export BASE_URL="http://127.0.0.1:$PORT/api/v1"
fi
export PYTHONPATH="$PEER_DIR${PYTHONPATH:+:$PYTHONPATH}"
for bench in $BENCHES; do
  echo "== $bench against $BASE_URL" >&2
  "$PY" "$PEER_DIR/bench_$bench.py"
done
