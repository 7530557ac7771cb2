# Evidence Vault: every target sets up what it needs on a fresh Debian/Ubuntu machine.
#   make demo   install, start the embedded vault and run the whole custody path on a sample image
#   make test   install, check PostgreSQL and the PDF tools, and run the test suite
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: install system-deps postgres test demo bench clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml setup.py vault/hashing/_sha256_lanes.c
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

system-deps:
	PYTHON=$(PYTHON) bash scripts/install-system-deps.sh

postgres:
	bash scripts/ensure-postgres.sh

test: system-deps install postgres
	$(PY) -m pytest

demo: system-deps install
	bash scripts/demo.sh

bench: install
	$(PY) bench/hashing
	$(PY) bench/ledger
	$(PY) bench/ingest

clean:
	rm -rf $(VENV) vault-data demo-out .pytest_cache
