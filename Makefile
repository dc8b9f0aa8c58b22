# Shouhou — two commands: `make run` and `make test`. See README.md.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PG_URL ?= postgres://postgres@127.0.0.1:5432/shouhou_ci_$(shell date +%s)_$$$$

.PHONY: run test test-pg lint format typecheck messages demo worker clean help

help:
	@echo "make run       set up, migrate, load demo data and start on http://127.0.0.1:8000"
	@echo "make test      set up dev tools, lint, check migrations, run the whole suite (SQLite)"
	@echo "make test-pg   the same suite on PostgreSQL at 127.0.0.1:5432 (a fresh database)"
	@echo "make messages  extract and compile translations (needs GNU gettext)"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	@touch $@

$(VENV)/.installed-dev: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install -q -e '.[dev]'
	@touch $@

run: $(VENV)/.installed
	DEBUG=$${DEBUG:-true} $(BIN)/shouhou run

worker: $(VENV)/.installed
	DEBUG=$${DEBUG:-true} $(BIN)/shouhou worker

demo: $(VENV)/.installed
	DEBUG=$${DEBUG:-true} $(BIN)/shouhou migrate --no-input -v0
	DEBUG=$${DEBUG:-true} $(BIN)/shouhou demo --vertical all

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.installed-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

typecheck: $(VENV)/.installed-dev
	$(BIN)/mypy

test: lint typecheck
	DATABASE_URL=sqlite:///:memory: DJANGO_SETTINGS_MODULE=shouhou.settings_test $(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/pytest $(PYTEST_ARGS)

test-pg: $(VENV)/.installed-dev
	DATABASE_URL=$(PG_URL) $(MAKE) test

messages: $(VENV)/.installed
	cd shouhou && DEBUG=true ../$(BIN)/shouhou makemessages -l zh_Hans -l en --no-obsolete \
		--ignore 'tests/*' --ignore 'settings_test.py'
	cd shouhou && DEBUG=true ../$(BIN)/shouhou compilemessages

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache .mypy_cache
