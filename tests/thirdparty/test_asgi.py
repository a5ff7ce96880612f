"""The admin, simple-history and taggit through the real toolbar over ASGI (``AsyncClient``),
one request at a time and several at once."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import AsyncClient

from tests.thirdparty import flows
from tests.thirdparty.flows import Request, Visit

# The views run in a thread of their own (sync_to_async): they need committed data.
pytestmark = pytest.mark.django_db(transaction=True)

VISITORS = 3


@pytest.fixture
async def admin_visits(superuser: Any) -> list[Visit]:
    return await flows.arun(AsyncClient(enforce_csrf_checks=True), flows.admin_flow())


@pytest.fixture
async def public_visits() -> list[Visit]:
    return await flows.arun(AsyncClient(enforce_csrf_checks=True), flows.public_flow())


@pytest.fixture
async def concurrent_visits(superuser: Any) -> list[Visit]:
    admin = AsyncClient(enforce_csrf_checks=True)
    login = await flows.arun(admin, flows.login_flow())
    add_page = await flows.asend(admin, Request("get", "/admin/notes/note/add/"))
    visitors = [AsyncClient(enforce_csrf_checks=True) for _ in range(VISITORS)]
    at_once = await flows.agather(flows.concurrent_requests(admin, add_page, visitors))
    return [*login, add_page, *at_once]


async def password_hash() -> str:
    user = await get_user_model().objects.aget(username=flows.USERNAME)
    return str(user.password)


# As over WSGI: stock flows, so every problem reported is false. Slow receivers are left out:
# how long a receiver takes depends on the machine, which a test cannot know.


async def test_admin_flow_shows_no_problems(admin_visits: list[Visit]) -> None:
    found = flows.problems_by_visit(admin_visits, ignore=["slow_receiver"])
    assert found == {}, flows.describe(found)


async def test_public_page_shows_no_problems(public_visits: list[Visit]) -> None:
    found = flows.problems_by_visit(public_visits, ignore=["slow_receiver"])
    assert found == {}, flows.describe(found)


async def test_admin_flow_shows_no_receiver_of_the_toolbar_or_the_panel(
    admin_visits: list[Visit],
) -> None:
    found = flows.observer_calls(admin_visits)
    assert found == {}, flows.describe(found)


async def test_admin_flow_shows_no_send_of_the_toolbars_own_signals(
    admin_visits: list[Visit],
) -> None:
    found = flows.observer_sends(admin_visits)
    assert found == {}, flows.describe(found)


async def test_admin_flow_panel_html_shows_no_secret(admin_visits: list[Visit]) -> None:
    secrets = flows.client_secrets(admin_visits)
    secrets["password hash"] = {await password_hash()}
    found = flows.secrets_shown(admin_visits, secrets)
    assert found == {}, flows.describe(found)


# -- several requests at once --------------------------------------------------------------------


async def test_concurrent_requests_show_no_problems(concurrent_visits: list[Visit]) -> None:
    found = flows.problems_by_visit(concurrent_visits, ignore=["slow_receiver"])
    assert found == {}, flows.describe(found)


async def test_concurrent_requests_show_no_receiver_of_the_toolbar_or_the_panel(
    concurrent_visits: list[Visit],
) -> None:
    # With several requests in flight, each toolbar's panels have their receivers connected.
    found = flows.observer_calls(concurrent_visits)
    assert found == {}, flows.describe(found)


async def test_concurrent_requests_panel_html_shows_no_secret(
    concurrent_visits: list[Visit],
) -> None:
    secrets = flows.client_secrets(concurrent_visits)
    secrets["password hash"] = {await password_hash()}
    found = flows.secrets_shown(concurrent_visits, secrets)
    assert found == {}, flows.describe(found)


async def test_concurrent_public_pages_each_show_only_their_own_note(
    concurrent_visits: list[Visit],
) -> None:
    public = [visit for visit in concurrent_visits if visit.request.path.startswith("/note/")]
    shown = {visit.label: flows.notes_saved(visit) for visit in public}
    assert shown == {visit.label: [flows.page_note(visit)] for visit in public}
