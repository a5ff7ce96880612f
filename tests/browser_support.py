"""What the browser tests share: Debian's Chromium, launched the one way this machine allows, and
opening the signal panel so that a test starts only once the panel can be used.

The toolbar fetches a panel's content when its button is clicked, inserts it, then loads the
panel's stylesheet and script. A test that acts as soon as the content is in the page races the
two: a click before the script has bound its handlers does nothing, and a row the stylesheet hides
is still visible. :func:`open_signal_panel` waits for both.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]

needs_chromium = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed"
)

# True once panel.js has bound its handlers and panel.css has loaded. The toolbar may live in a
# shadow root (as it does here): Playwright's locators pierce it, a script has to enter it.
_PANEL_READY = """() => {
    const host = document.getElementById("djDebugRoot");
    const root = host?.shadowRoot || document;
    const djDebug = root.querySelector("#djDebug");
    const sheets = [...root.querySelectorAll('link[href*="signal_panel/css/panel.css"]')];
    return djDebug?.dataset.spBound === "true" && sheets.length > 0 && sheets.every((l) => l.sheet);
}"""


def launch(playwright: Any) -> Any:
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def open_signal_panel(page: Any) -> Any:
    """Click the toolbar's signal panel button; return the panel once its script and stylesheet
    are in effect."""
    page.locator("#djDebugToolbar a.SignalPanel").click()
    panel = page.locator("#SignalPanel")
    panel.locator(".spTimeline").wait_for()
    page.wait_for_function(_PANEL_READY)
    return panel
