#!/usr/bin/env bash
# setup-venv.sh DIR PYTHON REQUIREMENTS: create DIR with PYTHON and install REQUIREMENTS,
# only when the requirements changed since the last successful install.
set -euo pipefail
dir=$1 python=$2 requirements=$3
stamp="$dir/.requirements.sha256"
wanted=$(cat "$requirements" $(sed -n 's/^-r //p' "$requirements" | sed "s|^|$(dirname "$requirements")/|") | sha256sum | cut -d' ' -f1)
if [ -x "$dir/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$wanted" ]; then
  exit 0
fi
echo "==> setting up $dir with $("$python" --version 2>&1) from $requirements"
[ -x "$dir/bin/python" ] || "$python" -m venv "$dir"
# (Some machines' pip config lists local indexes that may be absent: hide those warnings.)
quiet_pip() { "$dir/bin/python" -m pip "$@" --quiet --disable-pip-version-check 2> >(grep -v "^WARNING: Location" >&2); }
quiet_pip install --upgrade pip
quiet_pip install -r "$requirements"
echo "$wanted" > "$stamp"
