"""The third-party tests run with their own settings, apart from the main suite:

    python -m pytest tests/thirdparty --ds=tests.thirdparty.settings

Under any other settings (the main suite's ``tests.settings``) nothing here is collected: the
project app and the third-party apps are not installed there.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

SETTINGS = "tests.thirdparty.settings"

HERE = Path(__file__).parent

if os.environ.get("DJANGO_SETTINGS_MODULE") != SETTINGS:
    collect_ignore_glob = ["*"]

# django-simple-history 3.13 calls select_related() with no field names on a model without
# foreign keys, which Django 6.1 deprecates: with warnings as errors the history page would fail
# for a reason that is simple-history's, not the panel's.
SIMPLE_HISTORY_ON_DJANGO_61 = pytest.mark.filterwarnings(
    r"ignore:Calling select_related\(\) with no arguments is deprecated"
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.is_relative_to(HERE):
            item.add_marker(SIMPLE_HISTORY_ON_DJANGO_61)


@pytest.fixture(autouse=True)
def debug(settings: Any) -> None:
    # pytest-django runs tests with DEBUG=False; the toolbar is a DEBUG=True tool.
    settings.DEBUG = True


@pytest.fixture(autouse=True)
def toolbar_store() -> Iterator[None]:
    from debug_toolbar.store import get_store

    get_store().clear()  # type: ignore[no-untyped-call]
    yield
    get_store().clear()  # type: ignore[no-untyped-call]


@pytest.fixture
def superuser() -> Any:
    """The admin's superuser, with the password the flows log in with (the test's django_db
    mark gives the database access)."""
    from django.contrib.auth import get_user_model

    from tests.thirdparty.flows import PASSWORD, USERNAME

    return get_user_model().objects.create_superuser(USERNAME, "admin@example.com", PASSWORD)


@pytest.fixture(scope="session", autouse=True)
def warmed_up(django_db_setup: None, django_db_blocker: Any) -> None:
    """The flows run once before the tests (and are rolled back), as a running server has served
    pages before the developer looks at one: what the first requests of a process build lazily
    (Django's translation functions, the static files finders) is built here, so each test sees
    what a developer sees on the second visit. ``test_first_request_after_start_up_*`` looks at
    the first visit on its own."""
    from django.contrib.auth import get_user_model
    from django.db import transaction
    from django.test import Client

    from tests.thirdparty import flows

    with django_db_blocker.unblock(), transaction.atomic():
        get_user_model().objects.create_superuser(flows.USERNAME, "", flows.PASSWORD)
        flows.run(Client(), flows.admin_flow())
        flows.run(Client(), flows.public_flow())
        transaction.set_rollback(True)
