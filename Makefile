# The two commands: `make run` (demo on http://127.0.0.1:5000) and `make test` (whole suite).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SUDO := $(shell [ "$$(id -u)" = "0" ] || echo sudo)
export FLASK_APP := wsgi.py

.PHONY: run test install dev-install e2e-deps proxy-deps lint bench vendor-static clean translations image compose-check \
	restore-check

$(BIN)/python:
	@$(PYTHON) -c 'import ensurepip, venv' 2>/dev/null || { $(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q python3-venv; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.run-deps: requirements.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements.txt
	@touch $@

$(VENV)/.dev-deps: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements-dev.txt
	@touch $@ $(VENV)/.run-deps

install: $(VENV)/.run-deps

dev-install: $(VENV)/.dev-deps

## make run: embedded SQLite, migrations, demo data, fake Flow/SMS/e-mail, scheduler in-process, the AI module on with
## its FakeLLM (docs/AI.md).
run: install
	APP_ENV=development $(BIN)/flask db upgrade
	APP_ENV=development $(BIN)/flask seed-demo
	APP_ENV=development AI_FEATURES_ENABLED=$${AI_FEATURES_ENABLED:-true} $(BIN)/flask run --host 127.0.0.1 --port 5000 --no-reload

## Debian's Chromium for the browser tests (never a downloaded browser build).
e2e-deps:
	@command -v chromium >/dev/null 2>&1 || { $(SUDO) apt-get update -q && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q chromium; }

## Debian's nginx for tests/deploy/test_proxy.py (the compose proxy's config on loopback).
proxy-deps:
	@command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || { $(SUDO) apt-get update -q && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q nginx-light; }

## make test: every test; PostgreSQL when TEST_DATABASE_URL is set, else SQLite. Exit 5 (no tests) fails too.
test: dev-install e2e-deps proxy-deps
	PYTHON=$(BIN)/python scripts/chart-check.sh
	$(BIN)/python -m pytest

## make bench: data generator + booking benchmark on the local PostgreSQL (needs wrk: apt-get install wrk).
bench: dev-install
	@command -v wrk >/dev/null 2>&1 || { $(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q wrk; }
	$(BIN)/python bench/generate.py --clients 20000 --orders 100000
	$(BIN)/python bench/run_booking.py
	$(BIN)/python bench/run_frontdesk.py
	$(BIN)/python bench/run_reports.py --sequential
	$(BIN)/python bench/run_sold_reports.py --sequential --skip-excel
	$(BIN)/python bench/run_api.py --connections 1
	$(BIN)/python bench/run_api.py --connections 8
	$(BIN)/python bench/run_calendars.py
	$(BIN)/python bench/run_client_import.py

## make image: build the image and run every container command against the local PostgreSQL (scripts/image-check.sh).
image:
	scripts/image-check.sh

## make compose-check: the compose stack up, a booking, `restart web`, the booking still there (scripts/compose-check.sh).
compose-check:
	scripts/compose-check.sh

## make restore-check: pg_dump, pg_restore into a fresh database, row counts, migration head, /readyz.
restore-check: dev-install
	PYTHON=$(BIN)/python scripts/restore-check.sh

## make lint: ruff (lint + format check) and the layer contract of docs/ARCHITECTURE.md (import-linter, .importlinter).
LINTED := app tests bench config.py wsgi.py gunicorn.conf.py scripts/lint_migrations.py
lint: dev-install
	$(BIN)/ruff check $(LINTED)
	$(BIN)/ruff format --check $(LINTED)
	$(BIN)/lint-imports --no-cache
	$(BIN)/python scripts/lint_migrations.py

## make translations: extract the wrapped strings (babel.cfg) into app/translations/messages.pot, merge them into the
## English catalogue (new ones get an empty msgstr to fill in) and compile the .mo files (committed; docs/I18N.md).
translations: install
	$(BIN)/pybabel -q extract -F babel.cfg -k lazy_gettext -k _l -k Msg --add-location=file --sort-by-file -w 120 \
		--project=aremko --msgid-bugs-address=dev@aremko.cl -o app/translations/messages.pot .
	$(BIN)/pybabel -q update -i app/translations/messages.pot -d app/translations --no-fuzzy-matching --ignore-obsolete -w 120
	$(BIN)/pybabel -q compile -d app/translations --statistics

vendor-static:
	scripts/vendor-static.sh

clean:
	rm -rf $(VENV) instance/aremko.db
