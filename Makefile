# The two commands of the README. Everything installs from this project's own files.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint install install-dev clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

## run: serve the demo bot and the sandbox on embedded defaults (SQLite, in-process worker)
run: install
	$(BIN)/chatgate migrate
	$(BIN)/chatgate serve --host $(HOST) --port $(PORT)

## lint: the dependency direction (import-linter) and plain mistakes (ruff)
lint: install-dev
	$(BIN)/lint-imports
	$(BIN)/ruff check src tests bench

## test: the whole suite, after the dependency-direction check
test: install-dev lint
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) var .pytest_cache .hypothesis
