"""Set-up of the browser tests (see test_panel_browser.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.test_panel import use_panels

#: The panels of the page the browser opens (and of the screenshot in README.md).
PANELS = [
    "debug_toolbar.panels.history.HistoryPanel",
    "debug_toolbar.panels.timer.TimerPanel",
    "debug_toolbar.panels.sql.SQLPanel",
    "signal_panel.panels.SignalPanel",
]


@pytest.fixture
def browser_panels(settings: Any) -> Iterator[None]:
    yield from use_panels(settings, PANELS)
