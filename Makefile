# Two commands matter: `make run` (the platform on this machine) and `make test` (the suite).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUNTIME := $(VENV)/.runtime-installed
DEV := $(VENV)/.dev-installed
# Test processes side by side (pytest-xdist); a test file stays in one process, with its fixtures.
TEST_PROCESSES ?= 2
PARALLEL := --numprocesses=$(TEST_PROCESSES) --dist=loadfile

.PHONY: run test test-fast test-single-machine install lint format bench clean

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
	VAR_DIR="$(CURDIR)/var/test" $(BIN)/pytest $(PARALLEL) --durations=25

## The suite without slow end-to-end tests.
test-fast: $(DEV)
	VAR_DIR="$(CURDIR)/var/test" $(BIN)/pytest $(PARALLEL) -m "not slow"

## The apps' fast tests on the single-machine defaults (SQLite, the filesystem broker) that `make run`
## uses, whatever the environment sets: CI runs the whole suite on PostgreSQL and Redis, then this.
## Left to the full suite: files whose tests each fit a whole segmentation of their own and check
## what it shows (results pages, scorers, scoring), which reads no differently on SQLite.
HEAVY := tests/projects/test_results_pages.py tests/projects/test_transaction_input.py \
	tests/projects/test_segment_command.py tests/api/test_scoring.py
test-single-machine: $(DEV)
	env -u DATABASE_URL -u REDIS_URL -u REQUIRE_SERVICES VAR_DIR="$(CURDIR)/var/test-single" \
		$(BIN)/pytest $(PARALLEL) -m "not slow" $(addprefix --ignore=,$(HEAVY)) \
		tests/accounts tests/audit tests/projects tests/governance tests/api

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
