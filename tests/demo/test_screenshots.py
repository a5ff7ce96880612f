"""The example project in a real browser: each main scenario's page with the signal panel open.

Debian's Chromium driven by Playwright, on pages served by pytest-django's ``live_server``. The
screenshots go to pytest's temporary directory; with ``SCREENSHOTS=1`` (``make screenshots``) they
replace README's, under docs/screenshots/.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse

from tests.browser_support import launch, needs_chromium, open_signal_panel

playwright_sync = pytest.importorskip("playwright.sync_api")

DOCS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    needs_chromium,
]

# README's tour: scenario -> (the receivers whose rows to unfold, in order, or none to show the
# problems at the top; text the open panel must show).
SHOTS = {
    "profile": (["create_profile"], "accounts.Profile"),
    "custom": (["award_loyalty_points"], "loyalty_points_awarded"),
    "async": (["mark_order_shipped"], "notify_carrier"),
    "blinker": (["watch_stock_level", "reorder_from_supplier"], "shop.stock-low"),
    "duplicates": ([], "queue_welcome_email"),
    "recursion": ([], "re-entered itself"),
    "bulk": ([], "bulk_create() of 40 shop.Order rows"),
    "n_plus_one": ([], "build_invoice_naive"),
    "proxy": ([], "make_thumbnail did not run"),
    "rolled_back": ([], "discarded by a rollback"),
    "ignored_return": ([], "refuse_empty_review returned False"),
}
# Text typed into the timeline's filter box, so that the rows a picture is about (and, for a
# receiver that did not run, its Why not run? row) show right under the problems.
FILTERS = {
    "proxy": "make_thumbnail",
    "rolled_back": "email_receipt_on_commit",
    "ignored_return": "refuse_empty_review",
}


@pytest.fixture
def page(live_server: Any, demo_data: None, settings: Any) -> Iterator[Any]:
    settings.DEBUG = True  # pytest-django turns it off; the demo runs with it on.
    # Playwright's sync API runs an event loop in this thread while it is open, and Django's ORM
    # refuses to run beside one: start it after the database is ready, stop it before the flush.
    with playwright_sync.sync_playwright() as playwright:
        browser = launch(playwright)
        context = browser.new_context(viewport={"width": 1440, "height": 900})
        page = context.new_page()
        page.base_url = live_server.url
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        yield page
        context.close()
        browser.close()
    assert errors == []


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    if os.environ.get("SCREENSHOTS") == "1":
        DOCS.mkdir(parents=True, exist_ok=True)
        return DOCS
    return tmp_path


@pytest.mark.parametrize("slug", SHOTS)
def test_signal_panel_on_the_scenario(page: Any, shots: Path, slug: str) -> None:
    unfold, expected = SHOTS[slug]
    page.goto(page.base_url + reverse(slug))

    panel = open_signal_panel(page)
    # The scenarios' pictures show every send, those that reached no receiver too.
    quiet = panel.locator(".spShowQuiet")
    if quiet.count():
        quiet.check()
    for receiver in unfold:
        row = panel.locator("tr.spCall", has_text=receiver).first
        if row.locator(".djToggleSwitch").inner_text().strip() == "+":
            row.locator(".djToggleSwitch").click()
    if slug in FILTERS:
        panel.locator(".spFilter").fill(FILTERS[slug])
        panel.locator(".spFilter").press("Enter")
        missed = panel.locator("table.spMissed tr.spMiss", has_text=FILTERS[slug])
        if missed.count():
            missed.scroll_into_view_if_needed()
    assert expected in panel.inner_text()

    page.screenshot(path=str(shots / f"{slug}.png"))


def test_filter_shows_why_a_receiver_did_not_run_only_while_it_names_it(page: Any) -> None:
    # Saving a plain Photo: pin_cover_photo, connected for the proxy CoverPhoto, is not expected
    # to run, so its row is only an explanation, hidden until the filter names it.
    page.goto(page.base_url + reverse("slow"))
    panel = open_signal_panel(page)
    row = panel.locator("table.spMissed tr.spMaybe", has_text="pin_cover_photo")
    assert row.is_hidden()

    panel.locator(".spFilter").fill("pin_cover_photo")
    row.wait_for(state="visible")
    assert "a proxy of pitfalls.Photo" in row.inner_text()

    panel.locator(".spFilter").fill("")
    row.wait_for(state="hidden")
    assert panel.locator("table.spMissed tr.spMaybe").evaluate_all(
        "rows => rows.every(row => row.offsetParent === null)"
    )
