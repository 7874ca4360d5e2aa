# The README's commands. Needs only Python 3.11+ and pip.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
PYTEST_ARGS ?=

.PHONY: run reset test lint typecheck pytest bench soak sql openapi install clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[dev,postgres]'
	touch $@

install: $(VENV)/.installed

# make run: only what serving needs; a dev install (make install), when up to date, has it all.
$(VENV)/.installed-run: pyproject.toml | $(BIN)/python
	@if [ ! $(VENV)/.installed -nt pyproject.toml ]; then \
		echo "$(BIN)/python -m pip install -q -e '.[postgres]'"; \
		$(BIN)/python -m pip install -q -e '.[postgres]'; \
	fi
	touch $@

## run: migrate, seed the Hangzhou sample and serve on http://$(HOST):$(PORT)
run: $(VENV)/.installed-run
	$(BIN)/o2o db upgrade
	$(BIN)/o2o seed
	$(BIN)/o2o run --host $(HOST) --port $(PORT)

## reset: start the demo database over: drop every table, migrate, seed the Hangzhou sample.
## Only a SQLite database, unless FORCE=1 (passes --force: e.g. a throwaway PostgreSQL).
reset: $(VENV)/.installed-run
	$(BIN)/o2o reset$(if $(filter 1 yes true,$(FORCE)), --force)

## test: lint, format check, type check, then the whole test suite
test: lint typecheck pytest

lint: install
	$(BIN)/ruff check o2o tests bench loadtest
	$(BIN)/ruff format --check o2o tests bench loadtest

typecheck: install
	$(BIN)/mypy

pytest: install
	$(BIN)/pytest $(PYTEST_ARGS)

## bench: the checkout hot path under gunicorn, driven from a separate load process
## (options: make bench BENCH_ARGS='--checkouts 2000 --port 5055'; all: python -m bench.run --help)
BENCH_ARGS ?=
bench: install
	$(BIN)/python -m bench.run $(BENCH_ARGS)

## soak: keyed checkouts while gunicorn workers (and twice the master) are killed with -9,
## then the database checked against what the clients heard (PostgreSQL on 127.0.0.1:5432)
SOAK_ARGS ?= --seconds 60
soak: install
	$(BIN)/python -m loadtest.soak $(SOAK_ARGS)

## openapi: rewrite docs/openapi.json from the app (the sandbox's routes included)
openapi: install
	O2O_SANDBOX=1 O2O_DATABASE_URL=sqlite:// $(BIN)/o2o openapi write docs/openapi.json

## sql: rewrite o2o/store/sql/*.sql from the hot path's builders (review the diff)
sql: install
	$(BIN)/python -m o2o.store.snapshots

clean:
	rm -rf $(VENV) instance .pytest_cache .mypy_cache .ruff_cache .hypothesis
