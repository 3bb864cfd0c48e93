# Okno — the two everyday commands are `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: demo prompts test test-unit test-integration test-e2e lint format bench clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "Okno needs Python 3.11 or newer"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

## Run the whole demo centre with sample data (Ctrl-C stops everything).
demo: $(STAMP) prompts
	$(BIN)/okno demo

## Russian voice prompts for Asterisk (espeak-ng + sox; installed here when run as root).
prompts: $(STAMP)
	@if ! command -v espeak-ng >/dev/null || ! command -v sox >/dev/null; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			apt-get install -y -qq espeak-ng sox >/dev/null 2>&1 || \
			{ apt-get update -qq && apt-get install -y -qq espeak-ng sox >/dev/null; }; \
		fi; \
	fi
	@if command -v espeak-ng >/dev/null && command -v sox >/dev/null; then \
		$(BIN)/okno prompts build; \
	else \
		echo "Voice prompts not built: install espeak-ng and sox (apt-get install espeak-ng sox)"; \
	fi

## The whole test suite (unit, integration, end to end).
test: $(STAMP)
	$(BIN)/python -m pytest

test-unit: $(STAMP)
	$(BIN)/python -m pytest -m "not integration and not e2e"

test-integration: $(STAMP)
	$(BIN)/python -m pytest -m integration

test-e2e: $(STAMP)
	$(BIN)/python -m pytest -m e2e

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## Benchmarks: each prints its figures against a peer or bound measured in the same run.
bench: $(STAMP)
	@for script in bench/bench_*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis *.egg-info
