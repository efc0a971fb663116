# Two commands: `make demo` runs the main job, `make test` runs every test (see README.md).
VENV := .venv
PYTHON ?= python3

.PHONY: setup demo test chaos fuzz

N ?= 50000

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[test]'
	touch $@

demo: setup
	$(VENV)/bin/newswire demo

test: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/pytest

chaos: setup
	NEWSWIRE_CHAOS_ITEMS=$(N) $(VENV)/bin/pytest tests/chaos -p no:cacheprovider

fuzz: setup
	NEWSWIRE_FUZZ_EXAMPLES=20000 $(VENV)/bin/pytest tests/unit/test_fuzz.py -p no:cacheprovider
