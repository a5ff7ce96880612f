"""The same flows recorded in-process with ``record_signals()``, as a project's own test suite
would, with no toolbar in the way (the middleware is left out): no problem either."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db.models.signals import m2m_changed
from django.test import AsyncClient, Client
from taggit.models import TaggedItem

from signal_panel import record_signals
from signal_panel.testing import assert_no_problems, assert_sent
from tests.thirdparty import flows
from tests.thirdparty.flows import Request
from tests.thirdparty.notes.models import Note

TOOLBAR = "debug_toolbar.middleware.DebugToolbarMiddleware"
# Timings depend on the machine, which a test cannot know: slow receivers are left out.
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


@pytest.mark.django_db
@pytest.mark.usefixtures("no_toolbar", "superuser")
def test_recorded_tree_shows_no_secret() -> None:
    # The tree is what a failing signal assertion prints into the test run's log.
    client = Client(enforce_csrf_checks=True)
    with record_signals() as recording:
        visits = flows.run(client, flows.admin_flow(), toolbar=False)
    tree = recording.format_tree(color=False)
    secrets = flows.client_secrets(visits)
    secrets["password hash"] = {get_user_model().objects.get(username=flows.USERNAME).password}
    found = flows.secrets_in(tree, secrets)
    assert found == [], "\n".join(found)


@pytest.mark.django_db
def test_tagging_counts_each_m2m_changed_send() -> None:
    # taggit's add() sends m2m_changed twice (pre_add, then post_add after the tagged items).
    note = Note.objects.create(title="Tagged")
    with record_signals() as recording:
        note.tags.add("red", "blue")
    assert_sent(recording, m2m_changed, sender=TaggedItem, times=2)
