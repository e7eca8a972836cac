#!/usr/bin/env bash
set -euo pipefail
# Install the system programs the tests need when missing: redis-server (state,
# Sentinel) and Chromium (browser tests of the web chat embed, via Playwright).
# `setup-system.sh redis` checks redis-server only: what `make run` needs for its
# embedded Redis (conversations, the staff queue, alerts).
missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
if [ "${1:-all}" != redis ]; then
  command -v chromium >/dev/null 2>&1 || [ -n "${CHROMIUM_PATH:-}" ] || missing+=(chromium)
fi
if [ ${#missing[@]} -gt 0 ]; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "==> installing ${missing[*]} (Debian packages)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "error: this needs ${missing[*]}; install them (apt-get install ${missing[*]}), or set REDIS_URL / CHROMIUM_PATH" >&2
    exit 1
  fi
fi
