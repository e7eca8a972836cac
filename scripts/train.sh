#!/usr/bin/env bash
# Train the NLU model from intents/ into models/kyr-nlu.tar.gz, skipping the
# work when config, domain, training data and custom components are unchanged since the last run.
set -euo pipefail
cd "$(dirname "$0")/.."
export RASA_TELEMETRY_ENABLED=false
# The custom components (intents/components/*.py) are part of the pipeline too.
fingerprint=$(find intents/config.yml intents/domain.yml intents/data intents/components -type f ! -path '*__pycache__*' -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1)
model=models/kyr-nlu.tar.gz
if [ -f "$model" ] && [ "$(cat models/.fingerprint 2>/dev/null)" = "$fingerprint" ]; then
  echo "==> NLU model up to date ($model)"
  exit 0
fi
echo "==> training NLU model from intents/ (several minutes on 2 cores; progress in models/train.log)"
start=$(date +%s)
mkdir -p models
if ! .venv-rasa/bin/rasa data validate --data intents/data --domain intents/domain.yml \
     --config intents/config.yml --quiet >models/validate.log 2>&1; then
  cat models/validate.log >&2
  echo "error: rasa data validate failed (see above)" >&2
  exit 1
fi
if ! .venv-rasa/bin/rasa train nlu --config intents/config.yml --nlu intents/data --domain intents/domain.yml \
     --out models --fixed-model-name kyr-nlu >models/train.log 2>&1; then
  tail -40 models/train.log >&2
  echo "error: training failed (full log: models/train.log)" >&2
  exit 1
fi
[ -f "$model" ] || { echo "error: training did not produce $model" >&2; exit 1; }
echo "$fingerprint" > models/.fingerprint
echo "==> trained $model in $(( $(date +%s) - start )) s"
