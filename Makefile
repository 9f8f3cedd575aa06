# Stratus developer commands. Each target creates .venv and installs what it needs.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
# Lambda runs python3.12: use it when pyenv (or the system) has it, else the default python3.
BASE_PYTHON := $(shell if PYENV_VERSION=3.12.1 python3.12 -c '' >/dev/null 2>&1; then echo "env PYENV_VERSION=3.12.1 python3.12"; else echo python3; fi)
REQUIREMENTS := requirements-dev.txt shared/requirements.txt $(wildcard functions/*/requirements.txt functions/*/*/requirements.txt)

.PHONY: venv test unit functional e2e demo local run-exports invoke token bench events lint format sam-validate sam-build clean

venv: $(STAMP)

$(STAMP): $(REQUIREMENTS) pyproject.toml
	@test -x $(PY) || $(BASE_PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $(STAMP)

test: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

# One tier at a time (markers are applied by directory in tests/conftest.py).
unit: $(STAMP)
	$(PY) -m pytest -m unit $(PYTEST_ARGS)

functional: $(STAMP)
	$(PY) -m pytest -m functional $(PYTEST_ARGS)

e2e: $(STAMP)
	$(PY) -m pytest -m e2e $(PYTEST_ARGS)

demo: $(STAMP)
	$(PY) -m localcloud.demo

local: $(STAMP)
	$(PY) -m localcloud

# AutoGPT agent exports imported and run on an embedded local cloud: make run-exports EXPORTS=dir-or-files
run-exports: $(STAMP)
	@test -n "$(EXPORTS)" || { echo "usage: make run-exports EXPORTS=<dir or export files>"; exit 2; }
	$(PY) -m localcloud.run_exports $(EXPORTS)

invoke: $(STAMP)
	@test -n "$(FN)" || { echo "usage: make invoke FN=<LogicalId> EVENT=events/<file>.json"; exit 2; }
	$(PY) -m localcloud.invoke $(FN) $(if $(EVENT),--event $(EVENT),)

token: $(STAMP)
	@$(PY) -m localcloud.token "$(USER)" $(if $(ADMIN),--admin,)

bench: $(STAMP)
	$(PY) -m localcloud.bench

events: $(STAMP)
	$(PY) -m localcloud.sample_events

LINTED := shared functions localcloud tests

# The gates CI runs before the tests: style, types, both templates.
lint: $(STAMP)
	$(VENV)/bin/ruff check $(LINTED)
	$(VENV)/bin/ruff format --check $(LINTED)
	$(VENV)/bin/mypy shared/stratus functions
	$(VENV)/bin/cfn-lint template.yaml websocket.yaml

format: $(STAMP)
	$(VENV)/bin/ruff check --fix $(LINTED)
	$(VENV)/bin/ruff format $(LINTED)

# SAM CLI lives in its own virtualenv: its pins would fight the app's.
.venv-sam/bin/sam:
	python3 -m venv .venv-sam
	.venv-sam/bin/pip install --quiet --disable-pip-version-check aws-sam-cli

sam-validate: .venv-sam/bin/sam
	PYENV_VERSION=3.11.7:3.12.1 .venv-sam/bin/sam validate --lint

sam-build: .venv-sam/bin/sam
	PYENV_VERSION=3.11.7:3.12.1 PATH="$$(dirname $$(PYENV_VERSION=3.12.1 pyenv which python3.12 2>/dev/null || echo /usr/bin/python3)):$$PATH" .venv-sam/bin/sam build

clean:
	rm -rf .aws-sam .stratus .pytest_cache
