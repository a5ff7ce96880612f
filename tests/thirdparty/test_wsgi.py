"""The admin, simple-history and taggit through the real toolbar over WSGI (``Client``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.staticfiles import finders
from django.test import Client
from django.utils import translation

from tests.thirdparty import flows
from tests.thirdparty.flows import Visit

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_visits(superuser: Any) -> list[Visit]:
    return flows.run(Client(enforce_csrf_checks=True), flows.admin_flow())


@pytest.fixture
def public_visits() -> list[Visit]:
    return flows.run(Client(enforce_csrf_checks=True), flows.public_flow())


@pytest.fixture
def as_after_start_up() -> Iterator[None]:
    """Undo what the first request of the process builds lazily, as Django's own tests do: the
    translation functions (``Trans``'s docstring says to clear ``_trans.__dict__``) and the
    static files finders (what Django's ``static_finders_changed`` receiver clears)."""
    built = dict(translation._trans.__dict__)  # type: ignore[attr-defined]
    translation._trans.__dict__.clear()  # type: ignore[attr-defined]
    finders.get_finder.cache_clear()  # type: ignore[attr-defined]  # an lru_cache
    yield
    translation._trans.__dict__.update(built)  # type: ignore[attr-defined]


# Every flow here is stock code of Django's admin, simple-history and taggit doing what it is
# meant to: a problem the panel reports on them is one a Django developer would call false, so
# none is expected. Slow receivers are tested apart, being about the machine as much as the code.


def test_admin_flow_shows_no_problems(admin_visits: list[Visit]) -> None:
    found = flows.problems_by_visit(admin_visits, ignore=["slow_receiver"])
    assert found == {}, flows.describe(found)


def test_public_page_shows_no_problems(public_visits: list[Visit]) -> None:
    found = flows.problems_by_visit(public_visits, ignore=["slow_receiver"])
    assert found == {}, flows.describe(found)


def test_first_request_after_start_up_shows_no_problems(as_after_start_up: None) -> None:
    # Django connects its translation reloader lazily (with a dispatch_uid, once per process) and
    # the toolbar's static files panel builds the finders, whose storages connect to
    # setting_changed: neither is a receiver the project connects per request.
    visits = flows.run(Client(), flows.flow_of(flows.Request("get", "/admin/login/")))
    found = flows.problems_by_visit(visits, ignore=["slow_receiver"])
    assert found == {}, flows.describe(found)


def test_admin_flow_shows_no_receiver_of_the_toolbar_or_the_panel(
    admin_visits: list[Visit],
) -> None:
    found = flows.observer_calls(admin_visits)
    assert found == {}, flows.describe(found)


def test_admin_flow_shows_no_send_of_the_toolbars_own_signals(admin_visits: list[Visit]) -> None:
    # The toolbar's static files panel sends its own signal for every {% static %}; only its own
    # receiver gets it. Such a send is the observer's, like the toolbar's receivers: it belongs
    # neither in the timeline (even behind "show sends that reached no receiver", where it would
    # read "no receivers") nor in the panel's count of sends.
    found = flows.observer_sends(admin_visits)
    assert found == {}, flows.describe(found)


def test_public_page_shows_no_receiver_of_the_toolbar_or_the_panel(
    public_visits: list[Visit],
) -> None:
    found = flows.observer_calls(public_visits)
    assert found == {}, flows.describe(found)


def test_tagging_in_the_admin_shows_both_m2m_changed_sends(admin_visits: list[Visit]) -> None:
    # taggit's add() sends m2m_changed with action="pre_add", saves the tagged items, then sends
    # it with action="post_add": the timeline must show both, in that order.
    [added] = [visit for visit in admin_visits if visit.label == "POST /admin/notes/note/add/"]
    assert flows.m2m_actions(added) == ["pre_add", "post_add"]


def test_admin_flow_panel_html_shows_no_secret(admin_visits: list[Visit]) -> None:
    secrets = flows.client_secrets(admin_visits)
    secrets["password hash"] = {get_user_model().objects.get(username=flows.USERNAME).password}
    found = flows.secrets_shown(admin_visits, secrets)
    assert found == {}, flows.describe(found)
