#!/usr/bin/env bash
# Print the path of a Python 3.10 interpreter (Rasa 3.6 needs exactly 3.10).
# Looks on PATH, then under pyenv. Exits 1 with install advice when none is found.
set -euo pipefail
is_310() { "$1" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' 2>/dev/null; }
for candidate in python3.10 "$(command -v pyenv >/dev/null 2>&1 && pyenv root 2>/dev/null)/versions/"3.10*/bin/python3.10; do
  [ -n "$candidate" ] || continue
  path=$(command -v "$candidate" 2>/dev/null || true)
  [ -z "$path" ] && [ -x "$candidate" ] && path=$candidate
  if [ -n "$path" ] && is_310 "$path"; then echo "$path"; exit 0; fi
done
if command -v pyenv >/dev/null 2>&1; then
  for version in $(pyenv versions --bare 2>/dev/null | grep -E '^3\.10(\.|$)' || true); do
    path="$(pyenv root)/versions/$version/bin/python3.10"
    if [ -x "$path" ] && is_310 "$path"; then echo "$path"; exit 0; fi
  done
fi
cat >&2 <<'MSG'
error: Rasa 3.6 needs Python 3.10, and none was found (looked for python3.10 on PATH and under pyenv).
Install it, for example:
  Debian/Ubuntu:  sudo apt-get install python3.10 python3.10-venv   (or use the deadsnakes PPA)
  pyenv:          pyenv install 3.10.13
  macOS:          brew install python@3.10
Or run the whole stack with Docker: docker compose up
MSG
exit 1
