# Know-your-rights bot. `make run` and `make test` work on a fresh machine:
# they set up both virtual envs, train the NLU model when needed, and start
# what they need. See README.md.

SHELL := /bin/bash
APP_VENV := .venv
RASA_VENV := .venv-rasa
PY := $(APP_VENV)/bin/python
export RASA_TELEMETRY_ENABLED := false
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: help setup app-env rasa-env system-deps redis-server node-deps worker train run chat test check-content lint translations langid zipindex bench bench-nlu bench-lang bench-load bench-sms bench-broadcast bench-baseline bench-readability bench-waiting audit-data clean

help:
	@echo "make run            start the webhook at once (web chat on http://127.0.0.1:$${PORT:-5000}/); Rasa's env, training and Rasa in the background"
	@echo "make test           set up, train if needed, run the whole test suite"
	@echo "make chat           chat with the bot in this terminal (starts Rasa)"
	@echo "make worker         run the outbound message worker (needs REDIS_URL)"
	@echo "make train          train the NLU model from intents/ (skipped when unchanged)"
	@echo "make check-content  check answers, translations and SMS segment budgets"
	@echo "make lint           check the dependency rule between packages (import-linter, pyproject.toml)"
	@echo "make translations   extract English texts and update the .po catalogs (Babel)"
	@echo "make langid         rebuild the language identifier from intents/data/ (after changing NLU examples)"
	@echo "make zipindex       rebuild the ZIP/city index from the zipcodes package (after upgrading it)"
	@echo "make bench          every benchmark against its anchors in one table (nice'd; about 22 min on 2 idle cores, see BENCHMARKS.md)"
	@echo "make bench-nlu      intent accuracy on the held-out test set (benchmarks/)"
	@echo "make bench-lang     language-detection accuracy (benchmarks/)"
	@echo "make bench-baseline TF-IDF + logistic regression anchor vs. the Rasa pipeline, per locale"
	@echo "make bench-sms      SMS segments per first and MORE reply, per locale"
	@echo "make bench-readability  reading grade of the English answers, now vs. before the Dec 2026 review"
	@echo "make bench-waiting  silent replies while people wait for a person, now vs. before (benchmarks/waiting_soak.py)"
	@echo "make bench-broadcast a 10,000-recipient alert through RQ workers to a local Twilio peer"
	@echo "make bench-load     10,000 signed messages at concurrency 50 (benchmarks/load_soak.py)"
	@echo "make audit-data     scan Redis (REDIS_URL) for keys without TTL, phone numbers, message bodies"

setup: app-env rasa-env

app-env:
	@bash scripts/setup-venv.sh $(APP_VENV) "$$(bash scripts/find-app-python.sh)" requirements-dev.txt

rasa-env:
	@bash scripts/setup-venv.sh $(RASA_VENV) "$$(bash scripts/find-python310.sh)" requirements-rasa.txt

system-deps:
	@bash scripts/setup-system.sh

# make run's embedded Redis (skipped when REDIS_URL points elsewhere).
redis-server:
	@if [ -z "$$REDIS_URL" ]; then bash scripts/setup-system.sh redis; fi

# Test-only Node packages (Prism, Twilio's OpenAPI description), from package-lock.json.
node-deps:
	@if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then \
	  echo "==> installing test peers (npm ci)"; npm ci --no-audit --no-fund --loglevel=error; fi

worker: app-env
	@test -n "$$REDIS_URL" || { echo "error: the outbound worker needs REDIS_URL (the queue lives in Redis)"; exit 1; }
	@$(APP_VENV)/bin/rq worker kyr-outbound --with-scheduler -w bot.outreach.worker.OutboundWorker --url "$$REDIS_URL"

train: rasa-env
	@bash scripts/train.sh

# Serve first, train beside it: the bot answers from keywords as soon as the app's env
# exists; Rasa's env, the model and the swap happen in the background (bot/nlu_updates.py).
run: app-env redis-server
	@$(PY) -m bot.stack run

chat: app-env
	@$(PY) -m bot.stack chat

check-content: app-env
	@$(PY) -m bot.checks

translations: app-env
	@$(PY) -m bot.content.catalogs update

# The language identifier (bot/language/identify.py), from the NLU examples, never from the
# language benchmark's held-out messages; commit bot/language/langid.json.gz. make check-content
# fails when it is older than intents/data/.
langid: app-env
	@$(PY) -m bot.language.identify build --data intents/data --exclude benchmarks/data/language_heldout.yml

# ZIP code -> county and city -> place, from the zipcodes package (a dev requirement); commit
# bot/content/zipindex.json.gz. tests/test_location_index.py fails when it is stale.
zipindex: app-env
	@$(PY) -m bot.content.location build

# The dependency rule between bot/ packages (ARCHITECTURE.md; contract in pyproject.toml).
lint: app-env
	@$(APP_VENV)/bin/lint-imports

test: setup system-deps node-deps train check-content
	@$(APP_VENV)/bin/lint-imports
	@$(APP_VENV)/bin/pytest -q

# All benchmarks in one run and one table (benchmarks/run_all.py); nice'd, the machine is shared.
bench: setup system-deps train
	@nice -n 10 $(PY) benchmarks/run_all.py

bench-nlu: setup train
	@$(PY) benchmarks/nlu_accuracy.py

audit-data: app-env
	@$(APP_VENV)/bin/flask --app webhook audit-data

bench-lang: app-env
	@$(PY) benchmarks/language_detection.py

bench-baseline: app-env
	@$(PY) benchmarks/tfidf_baseline.py

bench-sms: app-env
	@$(PY) benchmarks/sms_cost.py

bench-waiting: setup system-deps train
	@$(PY) benchmarks/waiting_soak.py

bench-readability: app-env
	@$(PY) benchmarks/readability.py

bench-broadcast: app-env system-deps
	@$(PY) benchmarks/broadcast_throughput.py

bench-load: setup system-deps train
	@$(PY) benchmarks/load_soak.py

clean:
	rm -rf models results .pytest_cache
