"""The panel in a real browser: Debian's Chromium driven by Playwright, on a page of the test
project served by pytest-django's ``live_server`` with the real debug toolbar."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db.models.signals import post_save

from tests import views
from tests.browser_support import launch, needs_chromium, open_signal_panel
from tests.testapp.models import Author, Book

playwright_sync = pytest.importorskip("playwright.sync_api")

#: The panel page's screenshot of docs/panel.md; replaced only with ``SCREENSHOTS=1`` (``make
#: screenshots``), so that a test run leaves the working tree as it was. Otherwise it goes to
#: pytest's temporary directory. (README's, docs/panel.png, is tests/thirdparty/test_browser.py's.)
README_SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "screenshots" / "library.png"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    needs_chromium,
]


def book_for_new_author(sender: Any, instance: Author, created: bool, **kwargs: Any) -> None:
    """Every new author gets a first book: a post_save sent from inside a post_save receiver."""
    if created:
        Book.objects.create(title=f"First book of author {instance.pk}", author=instance)


def count_books(sender: Any, instance: Book, **kwargs: Any) -> None:
    Book.objects.filter(author_id=instance.author_id).count()


def make_audit_receiver() -> Any:
    def audit_page_view(sender: Any, **kwargs: Any) -> None:
        time.sleep(0.025)  # Slower than SLOW_RECEIVER_MS (20 ms here).

    return audit_page_view


def failing_receiver(sender: Any, **kwargs: Any) -> None:
    raise ValueError("the audit log is full")


@pytest.fixture
def receivers(settings: Any, browser_panels: None) -> Iterator[None]:
    # A threshold the other receivers stay under even on a busy machine.
    settings.SIGNAL_PANEL = {"SLOW_RECEIVER_MS": 20}
    audit_one, audit_two = make_audit_receiver(), make_audit_receiver()
    post_save.connect(book_for_new_author, sender=Author, dispatch_uid="browser-author")
    post_save.connect(count_books, sender=Book, dispatch_uid="browser-book")
    views.page_viewed.connect(audit_one)
    views.page_viewed.connect(audit_two)  # The same code connected twice: a duplicate.
    views.page_viewed.connect(failing_receiver, dispatch_uid="browser-failing")
    yield
    post_save.disconnect(sender=Author, dispatch_uid="browser-author")
    post_save.disconnect(sender=Book, dispatch_uid="browser-book")
    views.page_viewed.disconnect(audit_one)
    views.page_viewed.disconnect(audit_two)
    views.page_viewed.disconnect(dispatch_uid="browser-failing")


@pytest.fixture
def page(live_server: Any, receivers: None) -> Iterator[Any]:
    with playwright_sync.sync_playwright() as playwright:
        browser = launch(playwright)
        context = browser.new_context(viewport={"width": 1500, "height": 1350})
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(f"{live_server.url}/library/")
        yield page
        context.close()
        browser.close()
        assert errors == []


def test_panel_in_the_browser(page: Any, tmp_path: Path) -> None:
    nav = page.locator("#djdt-SignalPanel")
    assert "problems" in nav.inner_text()

    panel = open_signal_panel(page)
    assert panel.locator(".spProblems").is_visible()

    # A nested send is folded under the receiver that made it; "+" unfolds it.
    nested = panel.locator("tr.spSend", has_text="First book of author")
    assert nested.count() == 0 or not nested.first.is_visible()
    caller = panel.locator("tr.spCall", has_text="book_for_new_author")
    caller.locator(".djToggleSwitch").click()
    inner = panel.locator(
        "tr.spSend.djSelected", has=page.locator(".spSignal", has_text="post_save")
    )
    inner.first.wait_for()
    assert "testapp.Book" in inner.first.inner_text()
    assert panel.locator("tr.spCall", has_text="count_books").first.is_visible()

    # The filter narrows the timeline to the sends of the project's signal.
    panel.locator(".spFilter").fill("page_viewed")
    panel.locator(".spFilter").press("Enter")
    visible_sends = panel.locator(".spTimeline tr.spSend:visible")
    assert visible_sends.count() == 1
    assert "page_viewed" in visible_sends.first.inner_text()
    assert panel.locator(".spFilterStatus").inner_text() == "Matching sends: 1"
    # The markup in a kwarg shows as text.
    assert "<script>alert('x')</script>" in visible_sends.first.inner_text()
    panel.locator(".spFilter").fill("")
    panel.locator(".spFilter").press("Enter")
    assert panel.locator(".spTimeline tr.spSend:visible").count() > 1

    # A problem's link opens its place in the timeline.
    panel.locator(".spProblems .spJump").first.click()
    assert panel.locator(".spTimeline tr.djdt-highlighted").is_visible()

    # The screenshot README.md shows: the panel from its top, the nested send unfolded.
    panel.locator(".djdt-scroll").evaluate("(element) => element.scrollTo(0, 0)")
    screenshot = (
        README_SCREENSHOT if os.environ.get("SCREENSHOTS") == "1" else tmp_path / "panel.png"
    )
    page.screenshot(path=str(screenshot))
    assert screenshot.stat().st_size > 10_000


def test_receiver_table_sorts_and_timeline_folds_in_the_browser(page: Any) -> None:
    panel = open_signal_panel(page)
    calls = panel.locator(".spReceivers th", has_text="Calls")
    calls.locator(".spSort").click()  # Most calls first.
    first = panel.locator(".spReceivers tbody tr").first.locator("td").nth(2).inner_text()
    calls.locator(".spSort").click()  # Fewest first.
    last = panel.locator(".spReceivers tbody tr").first.locator("td").nth(2).inner_text()
    assert (first, last, calls.get_attribute("aria-sort")) == ("2", "1", "ascending")

    panel.locator(".spCollapseAll").click()
    assert panel.locator(".spTimeline tr.spCall:visible").count() == 0
    panel.locator(".spExpandAll").click()
    assert panel.locator(".spTimeline tr.spCall:visible").count() == 6
