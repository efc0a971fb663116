# Two commands: `make demo` runs the main job, `make test` runs every test (see README.md).
VENV := .venv
PYTHON ?= python3

.PHONY: setup demo test chaos fuzz

N ?= 50000

setup: $(VENV)/.installed

# The package is installed as a user gets it (not editable: an editable install makes the
# build backend warn), again whenever a file of it changes; the build must print no warning.
SOURCES := $(shell find pipeline agents schemas -type f -not -path '*__pycache__*' 2>/dev/null)

$(VENV)/.installed: pyproject.toml $(SOURCES)
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet '.[test]' 2>$(VENV)/install.log || (cat $(VENV)/install.log; exit 1)
	@if grep -i warning $(VENV)/install.log; then echo "make setup: the build warned (above)"; exit 1; fi
	rm -rf build
	touch $@

demo: setup
	$(VENV)/bin/newswire demo

test: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/pytest --durations=15

chaos: setup
	NEWSWIRE_CHAOS_ITEMS=$(N) $(VENV)/bin/pytest tests/chaos -p no:cacheprovider

fuzz: setup
	NEWSWIRE_FUZZ_EXAMPLES=20000 NEWSWIRE_FUZZ_RAW=5000 $(VENV)/bin/pytest tests/unit/test_fuzz.py tests/integration/test_fuzz_wire.py -p no:cacheprovider
