# The two set-up commands: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run run-distributed test lint demo clean

# The environment is installed from the lock file, so a fresh machine gets the versions the
# suite passed with; the project itself is installed on top without resolving anything again.
$(STAMP): pyproject.toml requirements-dev.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(STAMP)

# Re-resolve both lock files to the newest versions pyproject.toml allows (docs/operations.md):
# `make lock`, then `make test`, then commit the two files. requirements.lock (the service alone,
# for the Dockerfile) is kept to the same versions as requirements-dev.lock.
LOCK := $(BIN)/uv pip compile pyproject.toml --universal --python-version 3.11 --quiet
.PHONY: lock
lock: $(STAMP)
	$(LOCK) --extra dev --upgrade -o requirements-dev.lock
	$(LOCK) --constraint requirements-dev.lock -o requirements.lock

# The console (console/, docs/console.md) is built into api/console_dist, which the service
# serves at "/"; npm installs from console/package-lock.json. Rebuilt when its sources change.
CONSOLE := api/console_dist/index.html
CONSOLE_SOURCES := console/package.json console/package-lock.json console/vite.config.js console/index.html \
	$(shell find console/src -type f 2>/dev/null)
.PHONY: console
console: $(CONSOLE)
$(CONSOLE): $(CONSOLE_SOURCES)
	cd console && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error && npm run build --silent
	touch $(CONSOLE)

run: $(STAMP) $(CONSOLE)
	$(BIN)/crm api --demo

# API + two projection workers + scheduler against the local PostgreSQL and Redis.
run-distributed: $(STAMP)
	scripts/run-distributed.sh

# The suite runs on TEST_WORKERS pytest worker processes (docs/testing.md); the tests that
# start processes, servers or a browser share one group, so they never run at the same time.
# `make test TEST_WORKERS=0` runs it in one process. The fuzzing module runs on its own, in one
# process: under the workers its generated cases do not become separate tests (docs/testing.md).
TEST_WORKERS ?= 2
test: $(STAMP) $(CONSOLE)
	$(BIN)/ruff check .
	$(BIN)/mypy --strict aggregates commands
	$(BIN)/mypy projections readmodels api workers
	$(BIN)/pytest -q -n $(TEST_WORKERS) --dist loadgroup --ignore=tests/e2e/test_fuzz.py
	$(BIN)/pytest -q -p no:xdist tests/e2e/test_fuzz.py

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy --strict aggregates commands
	$(BIN)/mypy projections readmodels api workers

clean:
	rm -rf $(VENV) data api/console_dist console/node_modules

# Benchmarks B1–B6 (benchmarks/run.py): `make bench` at the small scale (a few minutes),
# `make bench SCALE=full` (or ARGS="--scale full") at 100,000 customers / 1,000,000 events.
# Each run writes its tables to benchmarks/history/; a full-scale run updates benchmarks/RESULTS.md.
SCALE ?= small
ARGS ?=
.PHONY: bench
bench: $(STAMP)
	$(BIN)/python -m benchmarks.run --scale $(SCALE) $(ARGS)

# Mutation testing (docs/testing.md): mutmut mutates aggregates/ and runs tests/unit against each
# mutant, in a fresh copy of the tree under build/ (ignored by git), so the work tree is never
# mutated. The unit tests use no services, so the test services' ports point at a closed one:
# no mutant's pytest session creates and drops a PostgreSQL database. The survivors are listed
# at the end; `cd build/mutation && ../../.venv/bin/mutmut show NAME` shows one.
.PHONY: mutation
mutation: $(STAMP)
	rm -rf build/mutation && mkdir -p build/mutation
	rsync -a --exclude '/.*' --exclude '/build' --exclude '/data' --exclude '/mutants' \
		--exclude '__pycache__' --exclude '*.egg-info' ./ build/mutation/
	cd build/mutation && CRM_REQUIRE_SERVICES=0 CRM_TEST_PG_PORT=1 CRM_TEST_REDIS_PORT=1 \
		$(CURDIR)/$(BIN)/mutmut run && $(CURDIR)/$(BIN)/mutmut results && \
		$(CURDIR)/$(BIN)/mutmut export-cicd-stats && cat mutants/mutmut-cicd-stats.json

# Message catalogues (readmodels/i18n.py): re-extract the ids from the code and update the .po
# files of every locale, keeping their translations; then translate the new entries (the
# catalogue tests in tests/unit list what is missing). Refusals form the `errors` domain (found
# by the refusal classes as keywords), everything else a person reads the `crm` domain.
ERRORS_KEYWORDS = -k Invalid:2 -k Conflict:2 -k Forbidden:2 -k NotFound:2 -k DomainError:2 \
	-k UnsupportedPhoto:2 -k PhotoTooLarge:2 -k refuse:3 -k ApiError:3 -k InvalidValue -k E_
.PHONY: messages
messages: $(STAMP)
	$(BIN)/pybabel -q extract -F babel.cfg --no-default-keywords $(ERRORS_KEYWORDS) --sort-output \
		--no-wrap --project crm -o readmodels/locales/errors.pot .
	$(BIN)/pybabel update -D errors -i readmodels/locales/errors.pot -d readmodels/locales \
		--no-wrap --ignore-obsolete --no-fuzzy-matching
	$(BIN)/python -m readmodels.messages
