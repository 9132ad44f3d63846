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

.PHONY: run serve test test-shared-backends test-shifted-clock test-e2e check-deploy install lint format simulator clean loadtest bench bench-freshness bench-search bench-agents review-figures privacy-figures

$(INSTALLED): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(INSTALLED)

install: $(INSTALLED)

$(AXE): tests/e2e/package.json tests/e2e/package-lock.json
	cd tests/e2e && npm ci --no-audit --no-fund --loglevel=error
	touch $(AXE)

# `make run`: the dashboard, a background worker with the scheduler, and (with no
# TRUEDY_API_KEY) the Truedy simulator over HTTP on $(SIMULATOR_PORT), which places a new call
# every $(SIMULATOR_NEW_CALL_EVERY) s and sends its webhooks to the dashboard: the archive fills
# and stays current by itself. The broker is a folder (var/broker): no service to install.
# Ctrl-C stops all three (honcho; Procfile.dev says what runs).
SIMULATOR_PORT ?= 8765
SIMULATOR_NEW_CALL_EVERY ?= 30
RUN_ENV = PATH="$(CURDIR)/$(VENV)/bin:$$PATH" RUN_HOST=$(HOST) RUN_PORT=$(PORT)
run: install
	$(PY) manage.py migrate --noinput
	@if [ -z "$$TRUEDY_API_KEY" ]; then \
	  $(PY) manage.py seed_demo_user && \
	  echo "Dashboard: http://$(HOST):$(PORT)/ (on the Truedy simulator, port $(SIMULATOR_PORT))" && \
	  export $(RUN_ENV) SIMULATOR_PORT=$(SIMULATOR_PORT) \
	    SIMULATOR_NEW_CALL_EVERY=$(SIMULATOR_NEW_CALL_EVERY) \
	    TRUEDY_API_KEY="$$($(PY) -c 'from calls.simulator import DEFAULT_API_KEY as k; print(k)')" \
	    TRUEDY_API_BASE_URL=http://$(HOST):$(SIMULATOR_PORT)/api/public/v1 \
	    TRUEDY_WEBHOOK_SECRET="$${TRUEDY_WEBHOOK_SECRET:-whsec_make_run_demo}" \
	    ARCHIVE_SYNC_REQUESTS_PER_RUN="$${ARCHIVE_SYNC_REQUESTS_PER_RUN:-400}" && \
	  exec $(VENV)/bin/honcho -f Procfile.dev start; \
	else \
	  echo "Dashboard: http://$(HOST):$(PORT)/ (on Truedy)" && \
	  export $(RUN_ENV) && exec $(VENV)/bin/honcho -f Procfile.dev.truedy start; \
	fi

# The tests that need no browser and no real worker run in $(TEST_PROCESSES) processes
# (pytest-xdist; each has its own database, cache and live server); so do the browser tests,
# each process with its own Chromium; the real-worker tests run after them in one.
TEST_PROCESSES ?= 2
test: install $(AXE)
	$(MAKE) --no-print-directory lint
	$(PY) manage.py check
	$(MAKE) --no-print-directory check-deploy
	$(VENV)/bin/pytest -m "not e2e and not workers" -n $(TEST_PROCESSES) -p no:cacheprovider
	$(VENV)/bin/pytest -m "e2e" -n $(TEST_PROCESSES) -p no:cacheprovider
	$(VENV)/bin/pytest -m "workers" -p no:cacheprovider
	$(MAKE) --no-print-directory test-shifted-clock
	$(MAKE) --no-print-directory test-shared-backends

# The suite again with the calendar 400 days ahead, so a test that compares a fixed date with
# the real clock fails now, not on the day that date passes. Every test but the browser ones
# and the real-worker ones (tests/background/test_workers.py: processes of their own, on the
# real clock):
# which of them read a clock is not something a marker can keep true, and the run takes about
# a minute and a half; the browser tests share their fixtures (tests/conftest.py) with the rest.
# The shift is time-machine's, set up in every Python process by tests/shifted_clock/
# sitecustomize.py (why not libfaketime: that file says).
CLOCK_SHIFT_DAYS ?= 400
test-shifted-clock: install
	TEST_CLOCK_SHIFT_DAYS=$(CLOCK_SHIFT_DAYS) PYTHONPATH=tests/shifted_clock \
	$(VENV)/bin/pytest -m "not e2e and not workers" -n $(TEST_PROCESSES) -q -p no:cacheprovider -W ignore::pytest.PytestAssertRewriteWarning

# The cache, session, archive and stampede tests again on the production backends: PostgreSQL
# and Redis on this machine (skipped, saying why, when either is not running).
TEST_POSTGRES ?= postgres://postgres@127.0.0.1:5432/test
TEST_REDIS ?= redis://127.0.0.1:6379/12
test-shared-backends: install
	TEST_DATABASE_URL=$(TEST_POSTGRES) TEST_CACHE_URL=$(TEST_REDIS) \
	$(VENV)/bin/pytest -m shared_backends -q

# Django's deployment checklist on production settings: DEBUG off, a fresh random key, a
# real host name; any warning fails. Every other security setting is at its production default.
# Static files are collected into a scratch folder first, as a deployment does (a production
# start without them is refused: calls/checks.py).
check-deploy: install
	export DEBUG=false ALLOWED_HOSTS=dashboard.example.com STATIC_ROOT="$$(mktemp -d)" \
	SECRET_KEY="$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(50))')"; \
	$(PY) manage.py collectstatic --noinput -v 0 && \
	$(PY) manage.py check --deploy --fail-level WARNING; \
	status=$$?; rm -rf "$$STATIC_ROOT"; exit $$status

# A local production-like run: DEBUG off, gunicorn.conf.py, hashed and compressed static files,
# on http://$(HOST):$(PORT)/. Plain http on this machine, so the HTTPS-only settings are off
# here; SECRET_KEY and ALLOWED_HOSTS are yours if set, else a key made up per start (sign-ins
# last until the next start) and $(HOST). A real deployment: README, "Deployment".
SERVE_ENV = DEBUG=false ALLOWED_HOSTS="$${ALLOWED_HOSTS:-$(HOST),localhost}" \
	SECRET_KEY="$${SECRET_KEY:-$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(50))')}" \
	SECURE_SSL_REDIRECT=false SESSION_COOKIE_SECURE=false CSRF_COOKIE_SECURE=false \
	SECURE_HSTS_SECONDS=0 HOST=$(HOST) PORT=$(PORT)
serve: install
	export $(SERVE_ENV); \
	$(PY) manage.py migrate --noinput && \
	$(PY) manage.py collectstatic --noinput -v 0 && \
	{ [ -n "$$TRUEDY_API_KEY" ] || $(PY) manage.py seed_demo_user; } && \
	exec $(VENV)/bin/gunicorn -c gunicorn.conf.py

# Only the real-browser tests (they also run in `make test`).
test-e2e: install $(AXE)
	$(VENV)/bin/pytest -m e2e

# Style, the layers of calls/ (.importlinter: nothing imports upward, no cycles, the simulator
# and calls/truedy stand apart) and the type checker ([tool.mypy] in pyproject.toml).
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache
	DEBUG=true $(VENV)/bin/mypy

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# The simulator as a standalone HTTP server, for pointing TRUEDY_API_BASE_URL at it.
simulator: install
	$(PY) manage.py truedy_simulator --port 8765

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache .hypothesis test-artifacts tests/e2e/node_modules

# 50 users for 60 s against gunicorn + the simulator over HTTP at 100 requests/minute (not part of `make test`).
loadtest: install
	$(PY) bench/loadtest.py

# How current the archive stays, with and without webhooks, and the Truedy requests the
# background sync spends (about 5 minutes; not part of `make test`).
bench-freshness: install
	$(PY) bench/freshness.py

# The review figures (about a minute; not part of `make test`): 40 calls of a sample reviewed
# by keyboard on the call page in Chromium, timed per call, and the agreement table after a
# scripted review of the simulator's last 16 days (tests/reviews/test_scripted_review.py).
review-figures: install $(AXE)
	REVIEW_WALK_CALLS=40 $(VENV)/bin/pytest -q -p no:cacheprovider \
	  "tests/e2e/test_review_on_call_page.py::test_a_sample_is_reviewed_on_the_call_page_by_keyboard_alone" \
	  tests/reviews/test_scripted_review.py
	@cat test-artifacts/review-walk.json; echo; cat test-artifacts/agreement-scripted.txt

# Personal-data detection on the simulator's labelled corpus (a second; not part of `make test`):
# recall and precision per kind, and every miss (calls/simulator/personal_data_corpus.py).
privacy-figures: install
	$(PY) scripts/personal_data_figures.py --misses

# Every page against the physical floor, side by side (about 2 minutes; not part of `make test`).
bench: install
	$(PY) bench/bench.py

# A two-word transcript search over 100,000 archived calls on PostgreSQL (this machine's, in a
# scratch database it drops), before and after full-text search (about 5 minutes; not part of
# `make test`): p50/p95 against the target, EXPLAIN ANALYZE in bench/results/search.json.
bench-search: install
	$(PY) bench/search_bench.py

# The agents page's figures over 100,000 archived calls with review work on PostgreSQL (a
# scratch database it drops; a few minutes): p50/p95 per range, EXPLAIN in
# bench/results/agents.json. `make bench` runs it as one row of its table.
bench-agents: install
	$(PY) bench/agents_bench.py
