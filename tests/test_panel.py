"""The debug-toolbar panel on real requests: recording per request (WSGI and ASGI), the toolbar's
store (memory and database), the history panel, Server-Timing, and living beside the built-in
``SignalsPanel``."""

from __future__ import annotations

import importlib
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from debug_toolbar.models import HistoryEntry
from debug_toolbar.store import get_store
from debug_toolbar.toolbar import DebugToolbar
from django.db import connection
from django.db.models.signals import post_save
from django.test import AsyncClient, Client
from django.urls import clear_url_caches

from signal_panel.panels import SignalPanel
from signal_panel.stats import expand
from tests import views
from tests.testapp.models import Author, Book

PANELS = [
    "debug_toolbar.panels.history.HistoryPanel",
    "debug_toolbar.panels.timer.TimerPanel",
    "debug_toolbar.panels.signals.SignalsPanel",
    "signal_panel.panels.SignalPanel",
]


def _rebuild_toolbar_urls() -> None:
    # The toolbar builds its URL patterns once, from the panels configured at that moment (its
    # settings receiver says "Not implemented: invalidate debug_toolbar.urls"); the history
    # panel's views must be there.
    import debug_toolbar.urls

    DebugToolbar._urlpatterns = None
    importlib.reload(debug_toolbar.urls)
    clear_url_caches()


def use_panels(
    settings: Any, panels: list[str] | None = None, *, store: str = ""
) -> Iterator[None]:
    """Configure the toolbar with ``panels`` (default :data:`PANELS`) and ``store`` for a test."""
    settings.DEBUG_TOOLBAR_PANELS = PANELS if panels is None else panels
    config = {"SHOW_TOOLBAR_CALLBACK": "tests.urls.show_toolbar", "IS_RUNNING_TESTS": False}
    if store:
        config["TOOLBAR_STORE_CLASS"] = store
    settings.DEBUG_TOOLBAR_CONFIG = config
    _rebuild_toolbar_urls()
    get_store().clear()
    yield
    get_store().clear()


@pytest.fixture
def panels(settings: Any) -> Iterator[None]:
    yield from use_panels(settings)


@pytest.fixture
def database_store(settings: Any, transactional_db: None) -> Iterator[None]:
    # The toolbar hides its migrations unless DatabaseStore is configured at start-up, so the
    # test database has no table for it: create it for this test.
    with connection.schema_editor() as editor:
        editor.create_model(HistoryEntry)
    try:
        yield from use_panels(settings, store="debug_toolbar.store.DatabaseStore")
    finally:
        with connection.schema_editor() as editor:
            editor.delete_model(HistoryEntry)


def first_book(sender: Any, instance: Author, created: bool, **kwargs: Any) -> None:
    """Saving an author saves a book: a post_save sent from inside a post_save receiver."""
    if created:
        Book.objects.create(title=f"First book of {instance.pk}", author=instance)


def failing_audit(sender: Any, **kwargs: Any) -> None:
    raise ValueError("<b>audit</b> failed")


@pytest.fixture
def receivers(settings: Any) -> Iterator[None]:
    # No receiver here is slow on purpose: a busy machine must not add slow_receiver problems.
    settings.SIGNAL_PANEL = {"SLOW_RECEIVER_MS": 10_000}
    post_save.connect(first_book, sender=Author, dispatch_uid="test-panel-first-book")
    views.page_viewed.connect(failing_audit, dispatch_uid="test-panel-failing-audit")
    yield
    post_save.disconnect(sender=Author, dispatch_uid="test-panel-first-book")
    views.page_viewed.disconnect(dispatch_uid="test-panel-failing-audit")


def stored_panel(response: Any) -> SignalPanel:
    """The panel as the toolbar rebuilds it from its store for this response's request."""
    toolbar = DebugToolbar.fetch(response.headers["djdt-request-id"], "SignalPanel")
    assert toolbar is not None
    panel: SignalPanel = toolbar.get_panel_by_id("SignalPanel")
    return panel


def signals_in(stats: dict[str, Any]) -> list[tuple[str, str]]:
    timeline = expand(stats)["timeline"]
    return [(row["signal"], row["sender"]) for row in timeline if row["type"] == "send"]


# -- recording per request -----------------------------------------------------------------------


@pytest.mark.django_db
def test_request_through_the_toolbar_records_the_views_sends(
    client: Client, panels: None, receivers: None
) -> None:
    stats = expand(stored_panel(client.get("/library/")).get_stats())
    assert ("post_save", "testapp.Author") in signals_in(stats)
    assert ("page_viewed", "None") in signals_in(stats)


@pytest.mark.django_db
def test_send_made_by_a_receiver_is_nested_under_its_call(
    client: Client, panels: None, receivers: None
) -> None:
    timeline = expand(stored_panel(client.get("/library/")).get_stats())["timeline"]
    [call] = [row for row in timeline if row.get("receiver", "").endswith(".first_book")]
    nested = [row for row in timeline if f"djToggleDetails_{call['id']} " in row["css"]]
    assert [(row["signal"], row["sender"]) for row in nested] == [
        ("pre_init", "testapp.Book"),
        ("post_init", "testapp.Book"),
        ("pre_save", "testapp.Book"),
        ("post_save", "testapp.Book"),
    ]


@pytest.mark.django_db
def test_nested_sends_start_folded_under_the_receiver_call(
    client: Client, panels: None, receivers: None
) -> None:
    timeline = expand(stored_panel(client.get("/library/")).get_stats())["timeline"]
    [call] = [row for row in timeline if row.get("receiver", "").endswith(".first_book")]
    nested = [row for row in timeline if f"djToggleDetails_{call['id']} " in row["css"]]
    assert (call["toggle"], {row["css"].split()[-1] for row in nested}) == ("+", {"djUnselected"})


@pytest.mark.django_db
def test_nav_subtitle_counts_sends_calls_time_and_problems(
    client: Client, panels: None, receivers: None
) -> None:
    subtitle = stored_panel(client.get("/library/")).nav_subtitle
    assert re.fullmatch(r"\d+ sends · 2 calls · \d+\.\d+ ms · 1 problem", subtitle), subtitle


@pytest.mark.django_db
def test_server_timing_has_the_total_receiver_time(
    client: Client, panels: None, receivers: None
) -> None:
    response = client.get("/library/")
    receiver_ms = stored_panel(response).get_stats()["receiver_ms"]
    assert (
        f'SignalPanel_receivers;dur={receiver_ms};desc="Signal receivers (2 calls)"'
        in response.headers["Server-Timing"]
    )


@pytest.mark.django_db
def test_request_that_sends_nothing_says_so(client: Client, panels: None) -> None:
    content = stored_panel(client.get("/empty/")).content
    assert "No signals were sent while the request was handled." in content


@pytest.mark.django_db
def test_markup_from_the_observed_program_shows_as_text(
    client: Client, panels: None, receivers: None
) -> None:
    content = stored_panel(client.get("/library/")).content
    assert "<script>" not in content
    assert "<b>" not in content
    assert "note=&quot;&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;&quot;" in content
    assert "ValueError: &lt;b&gt;audit&lt;/b&gt; failed" in content
    assert "&lt;testapp.Author pk=" in content


# -- ASGI ----------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
async def test_async_view_on_asgi_is_recorded(panels: None, receivers: None) -> None:
    response = await AsyncClient().get("/async-library/")
    stats = expand(stored_panel(response).get_stats())
    sends = [row for row in stats["timeline"] if row["type"] == "send"]
    assert ("post_save", "testapp.Author") in signals_in(stats)
    assert [row["mode"] for row in sends if row["signal"] == "page_viewed"] == ["async"]


@pytest.mark.django_db(transaction=True)
async def test_async_view_nests_the_receivers_send(panels: None, receivers: None) -> None:
    response = await AsyncClient().get("/async-library/")
    timeline = expand(stored_panel(response).get_stats())["timeline"]
    [call] = [row for row in timeline if row.get("receiver", "").endswith(".first_book")]
    assert call["toggle"] == "+"


@pytest.mark.django_db(transaction=True)
async def test_asgi_recording_stops_with_the_request(panels: None, receivers: None) -> None:
    await AsyncClient().get("/async-library/")
    from signal_panel import tracking as recording

    assert not recording.is_recording_anywhere()


# -- the toolbar's store and history -------------------------------------------------------------


@pytest.mark.django_db
def test_history_panel_renders_the_stored_panel(
    client: Client, panels: None, receivers: None
) -> None:
    request_id = client.get("/library/").headers["djdt-request-id"]
    response = client.get(
        "/__debug__/render_panel/", {"request_id": request_id, "panel_id": "SignalPanel"}
    )
    data = response.json()
    assert "first_book" in data["content"]
    assert data["scripts"] == ["/static/signal_panel/js/panel.js"]


@pytest.mark.django_db
def test_history_sidebar_shows_the_panels_subtitle(
    client: Client, panels: None, receivers: None
) -> None:
    request_id = client.get("/library/").headers["djdt-request-id"]
    response = client.get(
        "/__debug__/history_sidebar/", {"request_id": request_id, "exclude_history": True}
    )
    button = response.json()["SignalPanel"]["button"]
    assert re.search(r"\d+ sends · 2 calls · [\d.]+ ms · 1 problem", button), button


def test_stats_read_back_from_the_database_store(
    client: Client, database_store: None, receivers: None
) -> None:
    request_id = client.get("/library/").headers["djdt-request-id"]
    stored = json.loads(HistoryEntry.objects.get(request_id=request_id).data["SignalPanel"])
    assert ("post_save", "testapp.Author") in signals_in(stored)


def test_panel_renders_from_the_database_store(
    client: Client, database_store: None, receivers: None
) -> None:
    request_id = client.get("/library/").headers["djdt-request-id"]
    response = client.get(
        "/__debug__/render_panel/", {"request_id": request_id, "panel_id": "SignalPanel"}
    )
    assert "tests.test_panel.first_book" in response.json()["content"]


def test_database_store_writes_are_not_recorded(
    client: Client, database_store: None, receivers: None
) -> None:
    stats = expand(stored_panel(client.get("/library/")).get_stats())
    assert not [row for row in stats["timeline"] if row.get("sender", "").startswith("debug_tool")]


# -- beside the built-in SignalsPanel ------------------------------------------------------------


@pytest.mark.django_db
def test_both_signal_panels_show_in_the_toolbar(
    client: Client, panels: None, receivers: None
) -> None:
    html = client.get("/library/").content.decode()
    assert 'id="djdt-SignalsPanel"' in html
    assert 'id="djdt-SignalPanel"' in html


@pytest.mark.django_db
def test_both_signal_panels_keep_their_own_stats(
    client: Client, panels: None, receivers: None
) -> None:
    request_id = client.get("/library/").headers["djdt-request-id"]
    toolbar = DebugToolbar.fetch(request_id)
    assert toolbar is not None
    builtin = toolbar.get_panel_by_id("SignalsPanel").get_stats()
    ours = expand(toolbar.get_panel_by_id("SignalPanel").get_stats())
    assert "signals" in builtin
    assert "timeline" in ours
