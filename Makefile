# Two commands for a new user: `make run` and `make test`. Everything else is a helper.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
# Local development runs with DEBUG on; override in the environment for anything else.
export DEBUG ?= true

# axe-core for the accessibility checks, from the npm registry (test-only, never served).
AXE := tests/e2e/node_modules/axe-core/axe.min.js

.PHONY: run test test-e2e check-deploy install lint format simulator clean loadtest

$(INSTALLED): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(INSTALLED)

install: $(INSTALLED)

$(AXE): tests/e2e/package.json tests/e2e/package-lock.json
	cd tests/e2e && npm ci --no-audit --no-fund --loglevel=error
	touch $(AXE)

run: install
	$(PY) manage.py migrate --noinput
	@if [ -z "$$TRUEDY_API_KEY" ]; then $(PY) manage.py seed_demo_user; fi
	@echo "Dashboard: http://$(HOST):$(PORT)/"
	$(PY) manage.py runserver $(HOST):$(PORT)

test: install $(AXE)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) manage.py check
	$(MAKE) --no-print-directory check-deploy
	$(VENV)/bin/pytest

# Django's deployment checklist (S1) on production settings: DEBUG off, a fresh random key, a
# real host name; any warning fails. Every other security setting is at its production default.
check-deploy: install
	DEBUG=false ALLOWED_HOSTS=dashboard.example.com \
	SECRET_KEY="$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(50))')" \
	$(PY) manage.py check --deploy --fail-level WARNING

# Only the real-browser tests (they also run in `make test`).
test-e2e: install $(AXE)
	$(VENV)/bin/pytest -m e2e

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# The simulator as a standalone HTTP server, for pointing TRUEDY_API_BASE_URL at it.
simulator: install
	$(PY) manage.py truedy_simulator --port 8765

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis test-artifacts tests/e2e/node_modules

# 50 users for 60 s against gunicorn + the simulator over HTTP at 100 requests/minute (not part of `make test`).
loadtest: install
	$(PY) bench/loadtest.py
