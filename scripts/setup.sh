#!/usr/bin/env bash
# Create (or update) the project's virtual environment in .venv and install Tilery into it.
# Used by serve.sh and test.sh; safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
if [ ! -x .venv/bin/python ]; then
  echo "Creating .venv with $PYTHON ..."
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.tilery-installed
if [ ! -f "$stamp" ] || [ setup.py -nt "$stamp" ]; then
  echo "Installing Tilery and its dependencies into .venv (first run takes a minute or two) ..."
  # (grep drops pip's warnings about a local index folder some machines configure)
  .venv/bin/pip install -q --disable-pip-version-check -U pip wheel setuptools 2>&1 \
    | { grep -v "^WARNING: Location" || true; }
  .venv/bin/pip install -q --disable-pip-version-check -e ".[test]" 2>&1 \
    | { grep -v "^WARNING: Location" || true; }
  .venv/bin/python -c "import tilery, large_image, pymongo, cherrypy"
  touch "$stamp"
fi
bash scripts/build_web.sh
