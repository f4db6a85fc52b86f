# The two set-up commands: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run run-distributed test lint demo clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/crm api --demo

# API + two projection workers + scheduler against the local PostgreSQL and Redis.
run-distributed: $(STAMP)
	scripts/run-distributed.sh

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy aggregates commands projections readmodels api workers
	$(BIN)/pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy aggregates commands projections readmodels api workers

clean:
	rm -rf $(VENV) data
