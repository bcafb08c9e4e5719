#!/usr/bin/env bash
# Install the Debian packages named as arguments with apt-get (as root), or name them
# and fail when that is not possible. test.sh and cluster.sh pass what they miss.
set -euo pipefail
[ $# -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing $* with apt-get ..."
  apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >/dev/null
else
  echo "Please install: $*" >&2
  exit 1
fi
