# Two commands for a fresh machine (Python 3.11+ and a C compiler):
#   make demo   run the product: app + worker + local sandbox of Xero and Amazon Business
#   make test   lint, format check and the whole test suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?=
# Test processes (pytest-xdist): each gets its own Redis database (TEST_REDIS_DB + n) and
# PostgreSQL database (<name>_w<n>). 0 runs everything in one process.
TEST_WORKERS ?= 2

.PHONY: demo test proof install lint format clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed

demo: install
	@set -a && . ./demo.env && set +a && $(BIN)/flask --app wsgi db-upgrade
	@echo ""
	@echo "  Amazon Business for Xero demo: open http://127.0.0.1:5000"
	@echo "  Sandbox (Xero + Amazon Business stand-ins, documents viewer): http://localhost:5001/viewer"
	@echo "  Sign in to the sandbox as alice@example.com / sandbox"
	@echo ""
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/honcho --env demo.env start web worker background cron sandbox

test: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --durations=25 $(PYTEST_ARGS)

proof: install
	E2E_ON_POSTGRES=1 $(BIN)/python -m pytest -m slow tests/proof $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
