# fsd_tagger: every target installs what it needs into .venv/ (reused while pyproject.toml and the lock are unchanged).
# The install is exact: every package at the version requirements.lock pins (make lock writes it from pyproject.toml).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LOCK := requirements.lock
DEMO_OUT ?= demo_out

.PHONY: install lock check-wheel check-latest demo test sync docs docs-test chromium bench bench-real bench-suite clean

install: $(STAMP)

## uv (pinned in the lock) installs the lock; then this checkout, editable, without resolving anything again
$(STAMP): pyproject.toml $(LOCK)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q "$$(grep -m1 '^uv==' $(LOCK))"
	$(BIN)/uv pip install -q --python $(BIN)/python --no-config -r $(LOCK)
	$(BIN)/uv pip install -q --python $(BIN)/python --no-config --no-deps --no-build-isolation -e .
	$(BIN)/python tools/deps.py check
	@touch $(STAMP)

## make lock: requirements.lock anew from pyproject.toml, at the newest versions its ranges allow (then commit both)
lock:
	@test -x $(BIN)/uv || { test -x $(BIN)/python || $(PYTHON) -m venv $(VENV); $(BIN)/python -m pip install -q uv; }
	$(BIN)/python tools/deps.py lock

## make check-wheel: the wheel built from this checkout, installed into a clean venv from pyproject's ranges alone (no lock,
## no extras), runs fsd-tagger toy, a one-fold train and predict (a few minutes; downloads ~3 GB into uv's cache once)
check-wheel: install
	$(BIN)/python tools/deps.py wheel

## make check-latest: the same with the newest versions pyproject.toml allows and the export extra, then lists each package
## whose version differs from the lock (not part of make test: it answers "would a fresh pip install work today?")
check-latest: install
	$(BIN)/python tools/deps.py latest

## make demo: toy dataset -> EDA report -> training, submission, evaluation
demo: install
	$(BIN)/fsd-tagger demo --out $(DEMO_OUT)

## make test: export/clean/README in sync, every notebook run as tests on CPU, then the docs site built and
## checked in headless Chromium (the docs build reuses the notebooks the tests just executed, from _exec/)
test: install chromium
	$(BIN)/python tools/deps.py check
	$(BIN)/python tools/check_sync.py
	$(BIN)/python tools/run_tests.py
	$(BIN)/python tools/docs.py
	$(BIN)/python tools/docs_test.py

sync: install
	$(BIN)/python tools/check_sync.py --fix

## make docs: static site in _docs/ (open _docs/index.html); nbdev-docs when Quarto is installed, else offline
docs: install
	$(BIN)/python tools/docs.py

## make docs-test: build the site, then open every page in headless Chromium (screenshots in _docs_test/)
docs-test: docs chromium
	$(BIN)/python tools/docs_test.py

## Chromium + chromedriver from Debian when missing (skipped when CHROME_BIN and CHROMEDRIVER point at a browser)
chromium:
	@if [ -n "$$CHROME_BIN" ] && [ -n "$$CHROMEDRIVER" ]; then exit 0; fi; \
	if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then exit 0; fi; \
	SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); export DEBIAN_FRONTEND=noninteractive; \
	echo "installing Debian packages chromium chromium-driver"; \
	$$SUDO apt-get install -y -q --no-install-recommends chromium chromium-driver >/dev/null \
	  || { $$SUDO apt-get update -q >/dev/null && $$SUDO apt-get install -y -q --no-install-recommends chromium chromium-driver >/dev/null; }

## make bench: the throughput benchmarks (minutes); make bench-real: the real-sound benchmark (downloads ~3.3 GB of Debian
## packages once into data/realsound/, then builds the dataset and trains every system: about 40 minutes on 2 cores);
## make bench-suite: the same for every real-sound set (game sounds, instruments, everyday sounds; ~4 GB of packages)
bench: install
	@for f in bench/*.py; do case "$$f" in bench/realsound.py|bench/suite.py) continue;; esac; echo "== $$f"; $(BIN)/python $$f || exit 1; done

bench-real: install
	$(BIN)/python bench/realsound.py

bench-suite: install
	$(BIN)/python bench/suite.py

clean:
	rm -rf _proc _docs _exec _docs_test $(DEMO_OUT) nbs/_outputs
