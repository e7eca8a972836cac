#!/usr/bin/env bash
# Install the system programs the tests need (redis-server) when missing.
set -euo pipefail
if ! command -v redis-server >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "==> installing redis-server (Debian package)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
  else
    echo "error: redis-server is needed for the tests; install it (apt-get install redis-server / brew install redis) or set REDIS_URL" >&2
    exit 1
  fi
fi
