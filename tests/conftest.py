"""Shared test set-up."""

from __future__ import annotations

# pytest's own fixture for running pytest on generated test files (tests/test_pytest_plugin.py).
pytest_plugins = ["pytester"]
