"""blinker signals in the panel: timeline, per-receiver table and registry, with a badge."""

from __future__ import annotations

from typing import Any

import blinker
import pytest
from debug_toolbar.store import get_store
from debug_toolbar.toolbar import DebugToolbar
from django.http import HttpRequest, HttpResponse
from django.urls import include, path

from signal_panel import record_signals
from signal_panel.stats import panel_stats
from tests.testapp.models import Author

checkout_done = blinker.signal("test-blinker-panel-checkout-done")


def on_checkout(sender: Any, **kwargs: Any) -> None:
    Author.objects.create(name="Ursula")


def checkout(request: HttpRequest) -> HttpResponse:
    checkout_done.send("checkout", order=7)
    return HttpResponse("<!DOCTYPE html><html><head></head><body>done</body></html>")


urlpatterns = [
    path("checkout/", checkout),
    path("__debug__/", include("debug_toolbar.urls")),
]

PANELS = ["signal_panel.panels.SignalPanel"]


@pytest.fixture
def connected() -> Any:
    checkout_done.connect(on_checkout)
    yield
    checkout_done.disconnect(on_checkout)


@pytest.fixture
def stats(connected: None, db: None) -> dict[str, Any]:
    with record_signals() as recording:
        checkout_done.send("checkout", order=7)
    return panel_stats(recording, registry_listing=True)


def _blinker_sends(stats: dict[str, Any]) -> list[dict[str, Any]]:
    return [row for row in stats["timeline"] if row.get("library") == "blinker"]


def test_timeline_shows_the_blinker_send_with_its_library(stats: dict[str, Any]) -> None:
    assert [row["signal_name"] for row in _blinker_sends(stats)] == [
        "test-blinker-panel-checkout-done"
    ]


def test_timeline_nests_the_django_sends_under_the_blinker_receiver(
    stats: dict[str, Any],
) -> None:
    [call] = [row for row in stats["timeline"] if row["type"] == "call"]
    django_rows = [row for row in stats["timeline"] if row.get("library") == "django"]
    assert [row["signal_name"] for row in django_rows][-1] == "django.db.models.signals.post_save"
    assert all(int(row["indent"]) > int(call["indent"]) for row in django_rows)


def test_receiver_table_gives_the_blinker_receivers_library(stats: dict[str, Any]) -> None:
    [row] = [r for r in stats["receivers"] if r["receiver"].endswith(".on_checkout")]
    assert row["library"] == "blinker"


def test_registry_lists_the_named_signal_under_blinker(stats: dict[str, Any]) -> None:
    [entry] = [
        s for s in stats["registry"]["signals"] if s["name"] == "test-blinker-panel-checkout-done"
    ]
    assert (entry["library"], [r["receiver"] for r in entry["receivers"]]) == (
        "blinker",
        ["tests.test_blinker_panel.on_checkout"],
    )


def test_registry_does_not_say_blinker_is_absent(stats: dict[str, Any]) -> None:
    assert stats["registry"]["blinker_absent"] is False


@pytest.mark.urls("tests.test_blinker_panel")
@pytest.mark.django_db
def test_request_through_the_toolbar_shows_a_blinker_badge(
    client: Any, settings: Any, connected: None
) -> None:
    settings.DEBUG_TOOLBAR_PANELS = PANELS
    client.get("/checkout/")
    request_id = list(get_store().request_ids())[-1]
    panel = DebugToolbar.fetch(request_id, "SignalPanel").get_panel_by_id("SignalPanel")
    assert 'spLib-blinker">blinker<' in panel.content


def test_registry_listing_follows_a_receiver_connected_for_one_more_sender() -> None:
    from signal_panel.stats import registry_stats

    signal = blinker.signal("tests.registry-senders")

    def on_order(sender: Any, **kwargs: Any) -> None:
        return None

    signal.connect(on_order, sender="shop")
    try:
        registry_stats()
        signal.connect(on_order, sender="cafe")
        [listed] = [s for s in registry_stats()["signals"] if s["name"] == "tests.registry-senders"]
        assert [r["sender"] for r in listed["receivers"]] == ["'cafe', 'shop'"]
    finally:
        signal.disconnect(on_order)
