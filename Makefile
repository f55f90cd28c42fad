# Every target creates its own virtual environment first, so a fresh clone needs only python3.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test test-fast test-long lint format bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## The main job on the embedded default: build the example project on DuckDB and sync it to a
## local Braze emulator.
demo: $(STAMP)
	$(BIN)/python -m dbt_braze.demo

lint: $(STAMP)
	$(BIN)/ruff format --check dbt_braze tests bench
	$(BIN)/ruff check dbt_braze tests bench
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format dbt_braze tests bench
	$(BIN)/ruff check --fix dbt_braze tests bench

## Lint, type-check and the whole suite: unit tests, then integration tests on a real
## PostgreSQL (started by the tests themselves), DuckDB and the emulator.
test: lint
	$(BIN)/pytest -q

test-fast: $(STAMP)
	$(BIN)/pytest -q tests/unit

test-long: $(STAMP)
	DBT_BRAZE_LONG=1 $(BIN)/pytest -q tests/reliability tests/integration/test_crash_users.py \
		tests/integration/test_crash_events.py

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache example_project/target \
		example_project/dbt_packages example_project/logs
