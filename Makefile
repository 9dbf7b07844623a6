# Sahay — every command a developer or CI needs. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help
export UV_PYTHON_DOWNLOADS := never
export PYTHONDONTWRITEBYTECODE := 1

APP_PYTHON_VERSION ?= 3.11
VENV        := .venv
ENGINE_VENV := .venv-rasa
PY          := $(VENV)/bin/python
RASA_PY     := PYTHONPATH=$(CURDIR) $(ENGINE_VENV)/bin/python
RASA        := $(RASA_PY) -m rasa
DOMAIN      := build/domain
MODEL       := models/sahay.tar.gz
MODEL_HASH  := models/sahay.hash
UV          := $(shell command -v uv 2>/dev/null || echo "$(PY_BOOT) -m uv")
PY_BOOT     := $(shell command -v python3 2>/dev/null)
PYTEST_ARGS ?=
BENCH_ARGS  ?=

.PHONY: help setup run run-prod fault-report shell test train validate lint format lock clean bench bench-nlu eval-nlu eval-safety eval-crisis-layers browser-deps domain

help: ## List the commands
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  make %-12s %s\n", $$1, $$2}'

# --- environments -----------------------------------------------------------------
.uv-ready:
	@command -v uv >/dev/null 2>&1 || $(PY_BOOT) -m pip install --quiet uv
	@touch $@

$(VENV)/.synced: pyproject.toml uv.lock .uv-ready
	uv sync --frozen --group bench --python $(APP_PYTHON_VERSION)
	@touch $@

# The `bench` group (plot, memory, profiler) is in the app env too, so that its tests run.
$(VENV)/.bench-synced: $(VENV)/.synced
	uv sync --frozen --python $(APP_PYTHON_VERSION) --group bench
	@touch $@

$(ENGINE_VENV)/.synced: requirements/engine.txt .uv-ready scripts/find_python310.sh
	@base=$$(scripts/find_python310.sh) || exit 1; \
	  [ -x $(ENGINE_VENV)/bin/python ] || uv venv --quiet --python "$$base" $(ENGINE_VENV)
	VIRTUAL_ENV=$(ENGINE_VENV) uv pip install --quiet --require-hashes -r requirements/engine.txt
	@touch $@

setup: $(VENV)/.synced $(ENGINE_VENV)/.synced ## Make both environments (app 3.11, engine 3.10)

lock: .uv-ready ## Re-resolve both lock files after changing dependencies
	uv lock --python $(APP_PYTHON_VERSION)
	uv pip compile --quiet --python-version 3.10 --python-platform x86_64-manylinux_2_28 \
	  --generate-hashes requirements/engine.in -o requirements/engine.txt

# --- model --------------------------------------------------------------------------
domain: $(VENV)/.synced ## Assemble build/domain from domain/ (replies merged per language)
	@$(PY) scripts/build_domain.py --src domain --out $(DOMAIN)

train: setup domain ## Train the model when data, domain or config changed (FORCE=1 always)
	@hash=$$($(PY) scripts/content_hash.py); \
	if [ -z "$(FORCE)" ] && [ -f $(MODEL) ] && [ "$$(cat $(MODEL_HASH) 2>/dev/null)" = "$$hash" ]; then \
	  echo "Model is up to date ($(MODEL))."; \
	else \
	  echo "Training $(MODEL)…"; \
	  $(RASA) train --config config.yml --domain $(DOMAIN) --data data \
	    --out models --fixed-model-name sahay --quiet && echo "$$hash" > $(MODEL_HASH); \
	fi

validate: setup domain ## Check training data and domain (rasa data validate)
	$(RASA) data validate --domain $(DOMAIN) --data data --config config.yml --fail-on-warnings

# --- running ------------------------------------------------------------------------
run: train ## Start Rasa, the action server and the gateway; open the printed simulator address
	$(PY) -m bot.launcher

run-prod: train ## Production shape here: 2 gateways + 2 Rasa behind balancers, PostgreSQL, Redis
	$(PY) -m bot.cluster

shell: train ## Talk to the bot in the terminal (through the gateway, like WhatsApp)
	$(PY) -m bot.shell

eval-nlu: train ## Score the model on the held-out tests/nlu files -> docs/nlu-report.md
	@$(RASA_PY) scripts/eval_nlu.py --model $(MODEL) --tests tests/nlu --out docs/nlu-report.md \
	  >/dev/null 2>var/eval-nlu.log || true
	@sed -n '1,/^## Crisis/p' docs/nlu-report.md

bench: train $(VENV)/.bench-synced ## Load test: gateway vs plain Rasa by concurrency -> bench/results/ (BENCH_ARGS="--levels 1,5 --turns 20")
	$(PY) -m bench $(BENCH_ARGS)

bench-nlu: train ## Latency of /model/parse over the held-out files -> docs/nlu-bench.md
	$(PY) scripts/bench_nlu.py --model $(MODEL) --tests tests/nlu --out docs/nlu-bench.md

fault-report: train ## Kill a Rasa replica, stop PostgreSQL, slow the action server -> docs/fault-report.md
	SAHAY_FAULT_REPORT=docs/fault-report.md $(PY) -m pytest tests/production/test_faults.py -q -s -p no:cacheprovider

eval-safety: setup ## Crisis detector recall and false positives -> docs/safety-report.md
	$(PY) -m bot.safety.evaluate --out docs/safety-report.md

eval-crisis-layers: train ## Phrase rules + NLU crisis intents on the blind batches -> docs/crisis-layers.md
	@$(RASA_PY) scripts/eval_crisis_layers.py --model $(MODEL) --out docs/crisis-layers.md 2>var/eval-crisis.log | tail -6

# --- quality ------------------------------------------------------------------------
browser-deps: ## Install Debian's chromium, Indic fonts and espeak-ng; record the IVR prompts
	@scripts/ensure_browser.sh
	@$(PY) -m ivr.prompts build

test: train validate browser-deps ## Install what is needed, validate the data, run every test
	@$(PY) -m pytest $(PYTEST_ARGS); status=$$?; \
	if [ $$status -eq 5 ]; then echo "pytest collected no tests: the test set-up is broken" >&2; exit 1; fi; \
	exit $$status

lint: setup ## ruff and mypy
	$(VENV)/bin/ruff check bot actions ivr tests scripts bench
	$(VENV)/bin/ruff format --check bot actions ivr tests scripts bench
	$(VENV)/bin/mypy

format: setup ## Apply ruff's fixes and formatting
	$(VENV)/bin/ruff check --fix bot actions ivr tests scripts bench
	$(VENV)/bin/ruff format bot actions ivr tests scripts bench

clean: ## Remove environments, models and local data
	rm -rf $(VENV) $(ENGINE_VENV) build models/*.tar.gz $(MODEL_HASH) var .uv-ready .rasa
