# Two entry points for a new user (see README): `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: setup demo test lint unit browser clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	$(BIN)/caselog install --redis
	touch $@

demo: setup
	$(BIN)/caselog demo

lint: setup
	$(BIN)/ruff check agent fixtures tests
	$(BIN)/mypy
	$(BIN)/lint-imports

# Test files run in parallel, one worker per core (each file on one worker: its fixtures
# start once); `pytest` alone runs them one after another.
test: lint
	$(BIN)/pytest -n auto --dist loadfile --no-loadscope-reorder

unit: setup
	$(BIN)/pytest -m "not browser"

clean:
	rm -rf $(VENV) build *.egg-info
