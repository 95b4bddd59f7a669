# make run: set up and serve on http://127.0.0.1:3000    make test: set up and run every test
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

# The demo organisation, project, user and key pair `make run` creates (override any of them).
export LANGFUSE_INIT_ORG_ID ?= demo-org
export LANGFUSE_INIT_ORG_NAME ?= Demo Organization
export LANGFUSE_INIT_PROJECT_ID ?= demo-project
export LANGFUSE_INIT_PROJECT_NAME ?= Demo Project
export LANGFUSE_INIT_PROJECT_PUBLIC_KEY ?= pk-lf-demo-public-key
export LANGFUSE_INIT_PROJECT_SECRET_KEY ?= sk-lf-demo-secret-key
export LANGFUSE_INIT_USER_EMAIL ?= demo@langfuse.local
export LANGFUSE_INIT_USER_NAME ?= Demo User
export LANGFUSE_INIT_USER_PASSWORD ?= demo-password

.PHONY: run test install lint format browsers clean-data

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	DEBUG=$${DEBUG:-true} $(PY) manage.py serve

test: $(STAMP)
	env -u LANGFUSE_INIT_ORG_ID -u LANGFUSE_INIT_PROJECT_ID -u LANGFUSE_INIT_USER_EMAIL DEBUG=true \
		bash tests/setup_browser.sh
	env -u LANGFUSE_INIT_ORG_ID -u LANGFUSE_INIT_PROJECT_ID -u LANGFUSE_INIT_USER_EMAIL DEBUG=true \
		$(PY) -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean-data:
	rm -rf .data
