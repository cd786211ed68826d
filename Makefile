# The two commands of the README: `make run` (the demo on embedded SQLite) and `make test`.
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
PYTEST_ARGS ?=
# Use the local PostgreSQL for the database tests when it answers and nothing else was chosen.
NDX_TEST_POSTGRES_URL ?= $(shell pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null && echo postgresql+psycopg://postgres@127.0.0.1:5432/postgres)
export NDX_TEST_POSTGRES_URL

.PHONY: install run test pytest lint format bench clean

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --disable-pip-version-check uv
	UV_COMPILE_BYTECODE=1 $(VENV)/bin/uv pip install -q -p $(PY) -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(VENV)/bin/ndx demo

test: lint pytest

pytest: $(STAMP)
	$(VENV)/bin/pytest -n 2 $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	@if [ -f ../shared/tools/check_layers.py ]; then $(PY) ../shared/tools/check_layers.py .; fi

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: $(STAMP)
	$(PY) bench/generate.py --people 1000000
	$(PY) bench/search.py
	$(PY) bench/quality.py --people 100000
	$(PY) bench/query.py
	@if [ -f bench/download.py ]; then $(PY) bench/download.py; fi

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache
