#!/usr/bin/env bash
# Train the NLU model from intents/ into models/kyr-nlu.tar.gz, skipping the
# work when config, domain, training data and custom components are unchanged since the last run.
#
#   scripts/train.sh           train when needed (make train, make test, CI)
#   scripts/train.sh --check   exit 0 when the model is up to date, 3 when it needs training
#   scripts/train.sh --fingerprint   print the fingerprint of the training data
#
# make run trains through this script too (bot/clients/rasa_training.py), beside the
# running bot, with these overrides: INTENTS_DIR (default intents), MODEL_OUT (default
# models/kyr-nlu.tar.gz), TRAIN_LOG (Rasa's output; default models/train.log).
# The model is trained into a scratch folder and moved into place only when training
# succeeds, so a failed training never replaces (or removes) the model being served.
set -euo pipefail
cd "$(dirname "$0")/.."
export RASA_TELEMETRY_ENABLED=false
intents=${INTENTS_DIR:-intents}
model=${MODEL_OUT:-models/kyr-nlu.tar.gz}
log=${TRAIN_LOG:-models/train.log}
out_dir=$(dirname "$model")
# The custom components (intents/components/*.py) are part of the pipeline too. Paths are
# hashed as "intents/...", however INTENTS_DIR is written, so make run and make train agree.
fingerprint=$(cd "$(dirname "$intents")" && name=$(basename "$intents") && find "$name/config.yml" "$name/domain.yml" "$name/data" "$name/components" -type f ! -path '*__pycache__*' -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1)
up_to_date() { [ -f "$model" ] && [ "$(cat "$out_dir/.fingerprint" 2>/dev/null)" = "$fingerprint" ]; }
if [ "${1:-}" = "--check" ]; then
  up_to_date && exit 0 || exit 3
fi
if [ "${1:-}" = "--fingerprint" ]; then
  echo "$fingerprint"
  exit 0
fi
if up_to_date; then
  echo "==> NLU model up to date ($model)"
  exit 0
fi
echo "==> training NLU model from $intents/ (several minutes on 2 cores; progress in $log)"
start=$(date +%s)
mkdir -p "$out_dir" "$(dirname "$log")"
if ! .venv-rasa/bin/rasa data validate --data "$intents/data" --domain "$intents/domain.yml" \
     --config "$intents/config.yml" --quiet >"$out_dir/validate.log" 2>&1; then
  # Rasa's message, without the warnings of its dependencies (and without colour codes).
  sed 's/\x1b\[[0-9;]*m//g' "$out_dir/validate.log" \
    | grep -vE "Warning|declare_namespace|Implementing implicit|^  (from|import|Base:|declare_namespace)|pkg_resources|^\s*$" \
    | tail -15 >&2 || true
  echo "error: rasa data validate failed (full output: $out_dir/validate.log)" >&2
  exit 1
fi
scratch=$(mktemp -d "$out_dir/.training.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
if ! .venv-rasa/bin/rasa train nlu --config "$intents/config.yml" --nlu "$intents/data" --domain "$intents/domain.yml" \
     --out "$scratch" --fixed-model-name kyr-nlu >"$log" 2>&1; then
  tail -40 "$log" | tr '\r' '\n' | tail -40 >&2
  echo "error: training failed (full log: $log)" >&2
  exit 1
fi
[ -f "$scratch/kyr-nlu.tar.gz" ] || { echo "error: training did not produce $scratch/kyr-nlu.tar.gz" >&2; exit 1; }
mv -f "$scratch/kyr-nlu.tar.gz" "$model"
echo "$fingerprint" > "$out_dir/.fingerprint"
echo "==> trained $model in $(( $(date +%s) - start )) s"
