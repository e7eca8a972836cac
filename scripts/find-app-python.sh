#!/usr/bin/env bash
# Print the path of a current Python (3.11 or newer) for the webhook app's env.
set -euo pipefail
is_current() { "$1" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; }
for candidate in ${APP_PYTHON:-} python3.13 python3.12 python3.11 python3; do
  path=$(command -v "$candidate" 2>/dev/null || true)
  if [ -n "$path" ] && is_current "$path"; then echo "$path"; exit 0; fi
done
echo "error: the app needs Python 3.11 or newer; install python3.12 (e.g. apt-get install python3 python3-venv) or set APP_PYTHON" >&2
exit 1
