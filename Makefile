# Two entry points: `make demo` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The CPU build of PyTorch; a plain `torch` requirement can pull a multi-GB CUDA build.
TORCH ?= torch==2.13.0

.PHONY: demo test lint imports golden clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet "$(TORCH)"
	$(BIN)/pip install --quiet -e ".[test]"
	touch $@

demo: $(VENV)/.installed
	HF_HUB_OFFLINE=1 $(BIN)/digest demo

test: $(VENV)/.installed
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest

# Regenerate the publish stage's golden files (tests/golden/) after an intended change; review the diff.
golden: $(VENV)/.installed
	DIGEST_UPDATE_GOLDEN=1 $(BIN)/python -m pytest -q tests/test_golden.py

# The import rules in pyproject.toml ([tool.importlinter]): which room may import which.
imports: $(VENV)/.installed
	$(BIN)/lint-imports --no-cache

lint: imports
	$(BIN)/ruff check digest tests bench
	$(BIN)/ruff format --check digest tests bench
	$(BIN)/mypy

clean:
	rm -rf $(VENV) demo-out test-artifacts .pytest_cache .mypy_cache .ruff_cache
