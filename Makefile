# Shouhou (售后): the commands. `make demo` and `make test` work from a fresh clone (README.md).
SHELL := /bin/bash
.DEFAULT_GOAL := help
.PHONY: help setup demo test test-fast bench messages lint format clean

PY := .venv/bin/python
# Management commands need settings; outside the demo, a laptop default is fine for them.
MANAGE := DEBUG=$${DEBUG:-1} $(PY) manage.py

help:  ## list the commands
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

setup:  ## install uv if missing, sync .venv from uv.lock, compile messages
	@scripts/setup.sh

demo: setup  ## migrate, load demo data, serve :8000 with a Celery worker and beat (Ctrl-C stops all)
	@scripts/demo.sh

test:  ## set up and run the whole suite (SQLite; PostgreSQL when DATABASE_URL is set); ARGS=... for pytest
	@scripts/test.sh $(ARGS)

test-fast:  ## the suite without browser and worker tests, in parallel
	@scripts/test.sh -m "not e2e and not celery" -n 2 $(ARGS)

bench: setup  ## run the benchmarks (bench/run.sh), one line per figure
	@bash bench/run.sh

messages: setup  ## refresh locale/en/LC_MESSAGES/django.po from the code and templates
	$(MANAGE) makemessages -l en --ignore=.venv --ignore=var --ignore=node_modules
	$(MANAGE) compilemessages --ignore=.venv --ignore=var --ignore=node_modules

lint:  ## ruff check and format check
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .

format:  ## ruff fix and format
	.venv/bin/ruff check --fix .
	.venv/bin/ruff format .

clean:  ## remove caches and local data (var/: SQLite file, broker folder, media); keeps .venv
	rm -rf var/ .pytest_cache .ruff_cache test-results bench/out
	find . -path ./.venv -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +
