"""The same flows recorded in-process with ``record_signals()``, as a project's own test suite
would, with no toolbar in the way (the middleware is left out): no problem either."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import AsyncClient, Client

from signal_panel import record_signals
from signal_panel.testing import assert_no_problems
from tests.thirdparty import flows
from tests.thirdparty.flows import Request

TOOLBAR = "debug_toolbar.middleware.DebugToolbarMiddleware"
# Timings depend on the machine; the toolbar tests look at slow receivers apart.
TIMING = ["slow_receiver"]


@pytest.fixture
def no_toolbar(settings: Any) -> None:
    settings.MIDDLEWARE = [name for name in settings.MIDDLEWARE if name != TOOLBAR]


@pytest.mark.django_db
@pytest.mark.usefixtures("no_toolbar", "superuser")
def test_admin_flow_over_wsgi_records_no_problems() -> None:
    client = Client(enforce_csrf_checks=True)
    with record_signals() as recording:
        flows.run(client, flows.admin_flow(), toolbar=False)
        flows.run(client, flows.public_flow(), toolbar=False)
    assert_no_problems(recording, ignore=TIMING)


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("no_toolbar", "superuser")
async def test_admin_flow_over_asgi_records_no_problems() -> None:
    client = AsyncClient(enforce_csrf_checks=True)
    with record_signals() as recording:
        await flows.arun(client, flows.admin_flow(), toolbar=False)
        await flows.arun(client, flows.public_flow(), toolbar=False)
    assert_no_problems(recording, ignore=TIMING)


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("no_toolbar", "superuser")
async def test_concurrent_asgi_requests_record_no_problems() -> None:
    admin = AsyncClient(enforce_csrf_checks=True)
    visitors = [AsyncClient(enforce_csrf_checks=True) for _ in range(3)]
    with record_signals() as recording:
        await flows.arun(admin, flows.login_flow(), toolbar=False)
        add_page = await flows.asend(admin, Request("get", "/admin/notes/note/add/"), toolbar=False)
        await flows.agather(flows.concurrent_requests(admin, add_page, visitors), toolbar=False)
    assert_no_problems(recording, ignore=TIMING)
