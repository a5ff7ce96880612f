"""The toolbar shows on every page for a local browser; the signal panel renders every scenario."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from demo_site.scenarios import SCENARIOS, Scenario


@pytest.fixture
def debug(settings: Any, demo_data: None) -> None:
    # pytest-django runs tests with DEBUG=False; the demo runs with DEBUG=True.
    settings.DEBUG = True


def panel_html(client: Client, url: str) -> str:
    page = client.get(url).content.decode()
    request_id = re.search(r'data-request-id="([0-9a-f]+)"', page)
    assert request_id is not None, "no toolbar on the page"
    response = client.get(
        "/__debug__/render_panel/",
        {"request_id": request_id.group(1), "panel_id": "SignalPanel"},
    )
    assert response.status_code == 200
    content: str = response.json()["content"]
    return content


@pytest.mark.usefixtures("debug")
def test_toolbar_shows_for_a_local_browser(client: Client) -> None:
    response = client.get("/", REMOTE_ADDR="127.0.0.1")

    assert b'id="djDebug"' in response.content
    assert b"SignalPanel" in response.content


@pytest.mark.usefixtures("debug")
def test_toolbar_does_not_show_for_other_addresses(client: Client) -> None:
    response = client.get("/", REMOTE_ADDR="192.0.2.10")

    assert b'id="djDebug"' not in response.content


# What each page's panel must mention: a receiver or problem that scenario is about.
EXPECTED = {
    "profile": "create_profile",
    "family": "keep_spouses_in_sync",
    "audit": "write_audit_entry",
    "custom": "loyalty_points_awarded",
    "async": "notify_carrier",
    "blinker": "shop.stock-low",
    "transactions": "email_receipt_on_commit",
    "duplicates": "queue_welcome_email",
    "recursion": "re-entered itself",
    "swallowed": "accounting.example.com:443 refused the connection",
    "slow": "make_thumbnail",
    "bulk": "bulk_create() of 40 shop.Order rows",
    "n_plus_one": "build_invoice_naive",
    "vanishing": "index_page",
    "proxy": "make_thumbnail did not run",
    "rolled_back": "discarded by a rollback",
    "ignored_return": "refuse_empty_review returned False",
}


def test_expected_covers_every_scenario() -> None:
    assert set(EXPECTED) == {scenario.slug for scenario in SCENARIOS}


@pytest.mark.usefixtures("debug")
@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.slug for s in SCENARIOS])
def test_signal_panel_renders_the_scenario(client: Client, scenario: Scenario) -> None:
    html = panel_html(client, reverse(scenario.slug))

    assert EXPECTED[scenario.slug] in html


@pytest.mark.usefixtures("debug")
def test_registry_marks_the_search_indexer_gone_in_production_on_every_page(
    client: Client,
) -> None:
    html = panel_html(client, reverse("profile"))

    (row,) = [row for row in html.split("<tr") if "index_page</span>" in row]
    assert "gone in production" in row
    assert html.count("gone in production</span>") == 1
