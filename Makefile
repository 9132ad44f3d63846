# Two commands for a new user: `make run` and `make test`. Everything else is a helper.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
# Local development runs with DEBUG on; override in the environment for anything else.
export DEBUG ?= true

.PHONY: run test install lint format simulator clean

$(INSTALLED): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(INSTALLED)

install: $(INSTALLED)

run: install
	$(PY) manage.py migrate --noinput
	@if [ -z "$$TRUEDY_API_KEY" ]; then $(PY) manage.py seed_demo_user; fi
	@echo "Dashboard: http://$(HOST):$(PORT)/"
	$(PY) manage.py runserver $(HOST):$(PORT)

test: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) manage.py check
	$(VENV)/bin/pytest

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
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis test-artifacts
