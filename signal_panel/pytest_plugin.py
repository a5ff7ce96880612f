"""pytest plugin of django-signal-panel (registered through the ``pytest11`` entry point).

It provides the ``signal_recording`` and ``mute_receivers`` fixtures. Beyond the ``signal_panel``
package, this module imports only pytest: the assertions and the text tree are imported when a
test first asks for a fixture. Disable the plugin with ``-p no:signal_panel``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Generator, Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from signal_panel.testing import Muting, SignalRecording

_recording_key = pytest.StashKey["SignalRecording"]()


@pytest.fixture
def signal_recording(request: pytest.FixtureRequest) -> Iterator[SignalRecording]:
    """Record every signal sent while the test runs (from this fixture's set-up to its teardown).

    Gives a :class:`signal_panel.testing.SignalRecording`: the recording (``sends``,
    ``problems``, ``format_tree()``) with ``assert_sent``, ``assert_not_sent``, ``assert_received``,
    ``assert_not_received``, ``assert_order`` and ``assert_no_problems``, and ``mute()``. When
    the test fails for another reason, the report gets a "Captured signals" section with the
    recording's tree.
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


@pytest.fixture
def mute_receivers() -> Iterator[Callable[..., Muting]]:
    """A function that mutes receivers from when the test calls it until the test ends::

        def test_sign_up_without_email(db, mute_receivers):
            mute_receivers(send_welcome_email)
            ...

    It takes what :func:`signal_panel.testing.mute_receivers` takes (receivers, ``signal=``)
    and returns the active :class:`~signal_panel.testing.Muting`. The receivers come back at
    this fixture's teardown, in the reverse order of the calls. A receiver that a fixture torn
    down before then disconnects stays disconnected."""
    from signal_panel.testing import mute_receivers as muting

    with contextlib.ExitStack() as stack:

        def mute(*receivers: Callable[..., Any] | str, signal: object = None) -> Muting:
            return stack.enter_context(muting(*receivers, signal=signal))

        yield mute


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
