"""The example project's tests run with its own settings, apart from the main suite:

    python -m pytest tests/demo --ds=demo_site.settings

(``make test`` runs them after the main suite; pyproject's addopts leave this directory out of the
main suite, which runs on ``tests.settings``.)
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client

from tests.demo.visits import Visit

if os.environ.get("DJANGO_SETTINGS_MODULE") != "demo_site.settings":
    raise pytest.UsageError(
        "tests/demo runs with the example project's settings: "
        "python -m pytest tests/demo --ds=demo_site.settings"
    )


@pytest.fixture
def demo_data(db: None, settings: Any) -> None:
    # The superuser's password: a fast hasher keeps the command quick in tests.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("load_demo_data", stdout=io.StringIO())


@pytest.fixture
def visit(client: Client, demo_data: None) -> Callable[[str], Visit]:
    """``visit(url)`` requests ``url`` with the test client inside ``record_signals()``."""
    return lambda url: Visit.get(client, url)
