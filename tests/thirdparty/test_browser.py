"""The panel in a real browser on a page of real third-party apps: a page that saves a note kept
by django-simple-history and tags it with django-taggit, for a user logged in to the admin,
served by pytest-django's ``live_server`` through the real toolbar, in Debian's Chromium driven by
Playwright.

With ``SCREENSHOTS=1`` (``make screenshots``) it retakes README's screenshot, ``docs/panel.png``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser_support import launch, needs_chromium, open_signal_panel
from tests.thirdparty.flows import PASSWORD, USERNAME

playwright_sync = pytest.importorskip("playwright.sync_api")

README_SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "panel.png"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    needs_chromium,
]


@pytest.fixture
def admin_page(live_server: Any, superuser: Any, settings: Any) -> Iterator[Any]:
    # How long a receiver takes depends on the machine, which a test cannot know.
    settings.SIGNAL_PANEL = {"SLOW_RECEIVER_MS": 10_000}
    with playwright_sync.sync_playwright() as playwright:
        browser = launch(playwright)
        context = browser.new_context(viewport={"width": 1500, "height": 1300})
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(f"{live_server.url}/admin/login/?next=/admin/")
        page.fill("#id_username", USERNAME)
        page.fill("#id_password", PASSWORD)
        page.click("input[type=submit]")
        page.wait_for_url("**/admin/")
        page.goto(f"{live_server.url}/note/?title=Shopping list")
        yield page
        context.close()
        browser.close()
        assert errors == []


def test_the_panel_shows_the_apps_signals_and_nothing_of_the_toolbars(
    admin_page: Any, tmp_path: Path
) -> None:
    panel = open_signal_panel(admin_page)
    text = panel.inner_text()
    # The save of the note and simple-history's receiver of it.
    assert "notes.Note" in text
    assert "simple_history.models.HistoricalRecords.post_save" in text
    # Nothing of the toolbar's own receivers or signals, and no problem on this stock flow.
    assert "debug_toolbar." not in text.replace("debug_toolbar.panels.", "")
    assert "record_static_file_signal" not in text
    assert panel.locator(".spProblems").count() == 0
    # No secret: the password typed, the session's key.
    session = next(c for c in admin_page.context.cookies() if c["name"] == "sessionid")
    assert PASSWORD not in text
    assert session["value"] not in text

    # Sends that reached no receiver are hidden until asked for.
    quiet = panel.locator(".spTimeline tr.spQuiet")
    assert quiet.count() > 0
    assert not quiet.first.is_visible()
    assert "m2m_changed" not in panel.locator(".spTimeline").inner_text()
    panel.locator(".spShowQuiet").check()
    assert quiet.first.is_visible()
    # taggit's m2m_changed sends, which nothing of the project receives.
    assert "m2m_changed" in panel.locator(".spTimeline").inner_text()
    panel.locator(".spShowQuiet").uncheck()

    panel.locator(".djdt-scroll").evaluate("(element) => element.scrollTo(0, 0)")
    screenshot = (
        README_SCREENSHOT if os.environ.get("SCREENSHOTS") == "1" else tmp_path / "panel.png"
    )
    admin_page.screenshot(path=str(screenshot))
    assert screenshot.stat().st_size > 10_000

    # The registry lists simple-history's receiver for the note model, and its filter works.
    registry = panel.locator(".spRegistryFilter")
    registry.fill("simple_history")
    rows = panel.locator("table.spRegistry tr.spCall:visible")
    assert rows.count() >= 1
    # Connected in simple-history's own code for the note model, before any request.
    history = panel.locator("table.spRegistry tr.spCall:visible", has_text="post_save")
    assert "notes.Note" in history.first.inner_text()
    assert "simple_history/" in history.first.inner_text()
    registry.fill("")
