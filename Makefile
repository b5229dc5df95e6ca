# OpenDIP: two commands for a newcomer, `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DATA_DIR ?= .opendip
PORT ?= 8000

.PHONY: install run test lint typecheck audit browser bench clean

install: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	@echo "creating $(VENV) with $(PYTHON) (once; about a minute)"
	@$(PYTHON) -m venv $(VENV)
	@echo "installing the pinned dependencies from requirements.lock"
	@$(BIN)/python -m pip install --quiet --upgrade pip
	@$(BIN)/python -m pip install --quiet --progress-bar off -r requirements.lock
	@echo "installing opendip itself (editable)"
	@$(BIN)/python -m pip install --quiet --no-deps -e .
	@touch $(STAMP)
	@echo "installed: $(BIN)/opendip"

# Debian's chromium drives the portal tests; Playwright cannot download its own here.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian chromium for the browser tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null; }

run: install
	$(BIN)/opendip market --data-dir $(DATA_DIR) --port $(PORT)

# Four pytest-xdist workers; tests/conftest.py keeps each module's tests (per store) on one worker, so a
# module's shared hubs start once, and the portal's shared market once per store.
# Bytecode is written even where the environment says not to (PYTHONDONTWRITEBYTECODE): the suite starts
# a few hundred hub and CLI processes, and each would otherwise compile opendip's modules from source again.
test: install browser
	env -u PYTHONDONTWRITEBYTECODE OPENDIP_TESTS_COMPLETE=1 $(BIN)/python -m pytest -n 4 --dist loadgroup

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: install
	$(BIN)/mypy

# Supply chain and static checks. pip-audit asks a vulnerability database (PyPI's, or OSV with
# `-s osv`) about every pinned version: it needs that service, so it runs here, not in `make test`.
# bandit runs in `make test` too (tests/test_static_checks.py): nothing new beyond the reviewed baseline.
audit: install
	$(BIN)/pip-audit --strict --no-deps --disable-pip -r requirements.lock
	$(BIN)/bandit -q -r src -b bandit-baseline.json -ll

bench: install
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) $(DATA_DIR) .pytest_cache
