# `make test` and `make demo` set everything up from nothing: virtualenvs, packages, Chromium.
# The stacks, the pinned Django versions and the sessions are in noxfile.py.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# The Python that runs nox (nox finds each stack's own Python: 3.11, 3.12 and 3.13).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
TOOLS := .venv/tools
NOX := $(TOOLS)/bin/nox
PORT ?= 8000
# Extra arguments for nox, e.g. NOX_ARGS="-s tests-django6.0".
NOX_ARGS ?=

.PHONY: help test demo docs bench screenshots chromium clean

help:
	@echo "make test         lint, the suite on every stack (Django 5.2, 6.0, 6.1), docs, package"
	@echo "make demo         run the example project on http://127.0.0.1:$(PORT)/ (PORT= to change)"
	@echo "make docs         build the documentation into docs/_build/html"
	@echo "make bench        run the benchmarks"
	@echo "make screenshots  retake the pictures in docs/ with Chromium"
	@echo "make clean        remove the virtualenvs and everything built"

$(TOOLS)/.installed: Makefile
	rm -rf $(TOOLS)
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --upgrade pip
	$(TOOLS)/bin/pip install --quiet "nox>=2024.10.9"
	touch $@

# Browser tests drive Debian's Chromium; a fresh machine does not have it yet.
chromium:
	@command -v chromium >/dev/null || { \
		echo "Installing Debian's chromium for the browser tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

test: $(TOOLS)/.installed chromium
	$(NOX) $(NOX_ARGS)

demo: $(TOOLS)/.installed
	$(NOX) -s demo -- $(PORT)

docs: $(TOOLS)/.installed
	$(NOX) -s docs

bench: $(TOOLS)/.installed
	$(NOX) -s bench

screenshots: $(TOOLS)/.installed chromium
	$(NOX) -s screenshots

clean:
	rm -rf .venv dist build docs/_build .coverage demo_site/db.sqlite3
