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

# Benchmarks B1–B6 (benchmarks/run.py): `make bench` at the small scale (a few minutes),
# `make bench SCALE=full` (or ARGS="--scale full") at 100,000 customers / 1,000,000 events.
# Each run appends its tables to benchmarks/RESULTS.md.
SCALE ?= small
ARGS ?=
.PHONY: bench
bench: $(STAMP)
	$(BIN)/python -m benchmarks.run --scale $(SCALE) $(ARGS)
