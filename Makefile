# Two commands matter: `make run` (the platform on this machine) and `make test` (the suite).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUNTIME := $(VENV)/.runtime-installed
DEV := $(VENV)/.dev-installed

.PHONY: run test test-fast install lint format bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(RUNTIME): requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(DEV): requirements.txt requirements-dev.txt $(RUNTIME)
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

install: $(RUNTIME)

## The platform on one machine with no servers: SQLite and a filesystem broker under var/.
run: $(RUNTIME)
	@PATH="$(CURDIR)/$(BIN):$$PATH" scripts/run.sh

## The whole suite. PostgreSQL/Redis tests run when DATABASE_URL/REDIS_URL are set.
test: $(DEV)
	VAR_DIR="$(CURDIR)/var/test" $(BIN)/pytest

## The suite without slow end-to-end tests.
test-fast: $(DEV)
	VAR_DIR="$(CURDIR)/var/test" $(BIN)/pytest -m "not slow"

lint: $(DEV)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(DEV)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(DEV)
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) var/test .pytest_cache
