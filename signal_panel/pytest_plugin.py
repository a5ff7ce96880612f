"""pytest plugin of django-signal-panel (registered through the ``pytest11`` entry point).

It provides the ``signal_recording`` fixture. Beyond the ``signal_panel`` package, this module
imports only pytest: the assertions and the text tree are imported when a test first asks for the
fixture. Disable the plugin with ``-p no:signal_panel``.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from signal_panel.testing import SignalRecording

_recording_key = pytest.StashKey["SignalRecording"]()


@pytest.fixture
def signal_recording(request: pytest.FixtureRequest) -> Iterator[SignalRecording]:
    """Record every signal sent while the test runs (from this fixture's set-up to its teardown).

    Gives a :class:`signal_panel.testing.SignalRecording`: the recording (``sends``,
    ``problems``, ``format_tree()``) with ``assert_sent``, ``assert_not_sent``, ``assert_received``,
    ``assert_not_received`` and ``assert_no_problems``. When the test fails for another reason, the
    report gets a "Captured signals" section with the recording's tree.
    """
    from signal_panel import record_signals
    from signal_panel.testing import SignalRecording

    with record_signals() as recording:
        signals = SignalRecording(recording)
        request.node.stash[_recording_key] = signals
        try:
            yield signals
        finally:
            del request.node.stash[_recording_key]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    signals = item.stash.get(_recording_key, None)
    if signals is None or call.when != "call" or not report.failed:
        return report
    from signal_panel.testing import SignalAssertionError

    # A failed signal assertion already shows the tree in its message.
    if call.excinfo is not None and call.excinfo.errisinstance(SignalAssertionError):
        return report
    report.sections.append(("Captured signals", _tree(signals)))
    return report


def _tree(signals: SignalRecording) -> str:
    from signal_panel.text import format_tree

    try:
        return format_tree(signals.recording, color=False, max_lines=300)
    except Exception as exc:  # A report must never fail because of the recorder.
        return f"(the recording could not be shown: {type(exc).__name__}: {exc})"
