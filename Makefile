# The two commands of the README: `make run` and `make test` (and `make benchmark`: every benchmark, then a summary of the targets).
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint benchmark

$(BIN)/python:
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)

$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements.txt
	touch $@

$(VENV)/.dev: requirements-dev.txt requirements.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $@ $(VENV)/.runtime

run: $(VENV)/.runtime
	$(BIN)/streamlit run dashboard.py

# The gates first (lint on the whole repository, types on the code that runs), then every test.
lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/mypy pipelines ui

test: lint
	$(BIN)/python -m pytest -q

benchmark: $(VENV)/.dev
	$(BIN)/python benchmarks/run_all.py
