# fsd_tagger: every target installs what it needs into .venv/ (reused while pyproject.toml is unchanged).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_OUT ?= demo_out

.PHONY: install demo test sync docs bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	@touch $(STAMP)

## make demo: toy dataset -> EDA report -> (later issues) training, submission, evaluation
demo: install
	$(BIN)/fsd-tagger demo --out $(DEMO_OUT)

## make test: export/clean/README in sync, then every notebook run as tests on CPU
test: install
	$(BIN)/python tools/check_sync.py
	$(BIN)/python tools/run_tests.py

sync: install
	$(BIN)/python tools/check_sync.py --fix

docs: install
	@echo "make docs: the offline docs site is not built yet (see the docs issue)"; exit 1

bench: install
	@for f in bench/*.py; do echo "== $$f"; $(BIN)/python $$f || exit 1; done

clean:
	rm -rf _proc _docs $(DEMO_OUT) nbs/_outputs
