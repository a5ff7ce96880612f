# `make test` and `make demo` set everything up from nothing: virtualenvs, packages, Chromium.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# Two stacks: the oldest supported Django on the oldest supported Python, and the newest.
PYTHON_OLD ?= $(shell command -v python3.11 || command -v python3)
PYTHON_NEW ?= $(shell ls -d $$HOME/.pyenv/versions/3.12*/bin/python3 $$HOME/.pyenv/versions/3.13*/bin/python3 2>/dev/null | head -n1 || command -v python3.12)
DJANGO_OLD := Django>=5.2,<5.3
DJANGO_NEW := Django>=6.1,<6.2
VENV_OLD := .venv/dj52
VENV_NEW := .venv/dj61
PORT ?= 8000
PYTEST_ARGS ?=

.PHONY: help test lint test-old test-new demo screenshots bench chromium clean

help:
	@echo "make demo    run the example project on http://127.0.0.1:$(PORT)/ (PORT= to change)"
	@echo "make test    lint, then the whole suite on Django 5.2 (Python 3.11) and Django 6.1 (Python 3.12+)"
	@echo "make bench   run the benchmarks"

$(VENV_OLD)/.installed: pyproject.toml
	rm -rf $(VENV_OLD)
	$(PYTHON_OLD) -m venv $(VENV_OLD)
	$(VENV_OLD)/bin/pip install --quiet --upgrade pip
	$(VENV_OLD)/bin/pip install --quiet -e ".[test,lint]" "$(DJANGO_OLD)"
	touch $@

$(VENV_NEW)/.installed: pyproject.toml
	@test -n "$(PYTHON_NEW)" || { echo "Python 3.12 or 3.13 is needed for Django 6.1 (pyenv install 3.12)"; exit 1; }
	rm -rf $(VENV_NEW)
	$(PYTHON_NEW) -m venv $(VENV_NEW)
	$(VENV_NEW)/bin/pip install --quiet --upgrade pip
	$(VENV_NEW)/bin/pip install --quiet -e ".[test]" "$(DJANGO_NEW)"
	touch $@

# Browser tests drive Debian's Chromium; a fresh machine does not have it yet.
chromium:
	@command -v chromium >/dev/null || { \
		echo "Installing Debian's chromium for the browser tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

lint: $(VENV_OLD)/.installed
	$(VENV_OLD)/bin/ruff check .
	$(VENV_OLD)/bin/ruff format --check .
	$(VENV_OLD)/bin/mypy

test-old: $(VENV_OLD)/.installed chromium
	$(VENV_OLD)/bin/python -m pytest $(PYTEST_ARGS)
	$(VENV_OLD)/bin/python -m pytest tests/demo --ds=demo_site.settings $(PYTEST_ARGS)

test-new: $(VENV_NEW)/.installed chromium
	$(VENV_NEW)/bin/python -m pytest $(PYTEST_ARGS)
	$(VENV_NEW)/bin/python -m pytest tests/demo --ds=demo_site.settings $(PYTEST_ARGS)

test: lint test-old test-new

demo: $(VENV_OLD)/.installed
	$(VENV_OLD)/bin/python demo_site/manage.py migrate --noinput
	$(VENV_OLD)/bin/python demo_site/manage.py load_demo_data
	$(VENV_OLD)/bin/python demo_site/manage.py runserver 127.0.0.1:$(PORT)

# README's screenshots (docs/), taken by the browser tests; a plain test run leaves them alone.
screenshots: $(VENV_OLD)/.installed chromium
	SCREENSHOTS=1 $(VENV_OLD)/bin/python -m pytest tests/browser -m browser
	SCREENSHOTS=1 $(VENV_OLD)/bin/python -m pytest tests/demo/test_screenshots.py --ds=demo_site.settings -m browser

bench: $(VENV_OLD)/.installed
	$(VENV_OLD)/bin/python benchmarks/overhead.py
	$(VENV_OLD)/bin/python benchmarks/panel_render.py

clean:
	rm -rf .venv demo_site/db.sqlite3
