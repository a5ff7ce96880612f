"""Assertions about the signals some code sent, for pytest, ``unittest`` and Django's TestCase.

Record with :func:`signal_panel.record_signals`, then assert on the recording::

    with record_signals() as recording:
        Author.objects.create(name="Ann")
    assert_sent(recording, post_save, sender=Author, times=1)

A failing assertion raises :class:`SignalAssertionError` (an ``AssertionError``) whose message says
what was expected, what happened, and shows the recording as a tree (``Recording.format_tree``).
The pytest fixture ``signal_recording`` (``signal_panel.pytest_plugin``) gives a
:class:`SignalRecording` with the same assertions as methods; :class:`SignalAssertionsMixin` gives
them to ``unittest.TestCase`` classes as ``assertSignalSent`` and friends.

Matching: a *signal* is the signal object (compared by identity) or its dotted name
(``"django.db.models.signals.post_save"``). A *sender* matches when its label equals the recorded
one: a model class by its ``app_label.ModelName``, another class by ``module.QualName``, ``None``
as ``None``, any other object by its summary (a string ``"x"`` matches the string ``"x"``). A
*receiver* matches every call of the same logical receiver: the same function, any bound method of
the same method, any closure made from the same code.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, Final

from signal_panel import naming

if TYPE_CHECKING:
    from signal_panel.problems import Problem
    from signal_panel.recording import ReceiverCall, Recording, Send

__all__ = [
    "ANY",
    "SignalAssertionError",
    "SignalAssertionsMixin",
    "SignalRecording",
    "assert_no_problems",
    "assert_not_received",
    "assert_not_sent",
    "assert_received",
    "assert_sent",
]

# Hides this module's frames from unittest's tracebacks (pytest's are hidden by __tracebackhide__).
__unittest = True

#: Longest tree shown in a failure message, in lines (the problems are always shown in full).
_TREE_LINES = 300


class _Any:
    def __repr__(self) -> str:
        return "ANY"


#: The default of ``sender=``: any sender matches.
ANY: Final[Any] = _Any()


class SignalAssertionError(AssertionError):
    """A signal assertion failed; the message includes the recording's tree."""


# -- matching -----------------------------------------------------------------------------------


def _unwrap(recording: Recording | SignalRecording) -> Recording:
    return recording.recording if isinstance(recording, SignalRecording) else recording


def _signal_text(signal: object) -> str:
    if isinstance(signal, str):
        return signal
    from signal_panel.registry import signal_name

    return signal_name(signal)


def _signal_matches(send: Send, signal: object) -> bool:
    if isinstance(signal, str):
        return send.signal_name == signal
    return send.signal is signal


def _sender_text(recording: Recording, sender: object) -> str:
    return naming.sender_label(sender) or "?"


def _sends(recording: Recording, signal: object, sender: object) -> list[Send]:
    found = [send for send in recording.sends if _signal_matches(send, signal)]
    if sender is not ANY:
        label = _sender_text(recording, sender)
        found = [send for send in found if send.sender == label]
    return found


def _calls(
    recording: Recording, receiver: Callable[..., Any], signal: object, sender: object
) -> list[ReceiverCall]:
    key = naming.receiver_info(receiver).logical_key
    found = [call for call in recording.calls if call.logical_key == key]
    if signal is not None:
        found = [call for call in found if _signal_matches(call.send, signal)]
    if sender is not ANY:
        label = _sender_text(recording, sender)
        found = [call for call in found if call.send.sender == label]
    return found


def _times(count: int) -> str:
    return "1 time" if count == 1 else f"{count} times"


def _check_times(times: int | None) -> None:
    if times is not None and (isinstance(times, bool) or not isinstance(times, int) or times < 0):
        raise TypeError(f"times must be None or a non-negative int, not {times!r}")


# -- messages -----------------------------------------------------------------------------------


def _failure(recording: Recording, headline: str, details: Iterable[str] = ()) -> str:
    from signal_panel.text import format_tree

    lines = [headline, *details]
    if recording.truncated:
        lines.append("The recording reached MAX_CALLS: sends and calls past it were not stored.")
    lines.append("")
    lines.append("What was recorded:")
    lines.append(format_tree(recording, color=False, max_lines=_TREE_LINES))
    return "\n".join(lines)


def _others(sends: list[Send]) -> str:
    counts: dict[str, int] = {}
    for send in sends:
        counts[send.sender] = counts.get(send.sender, 0) + send.count
    return ", ".join(f"{sender} ({count})" for sender, count in counts.items())


def _sent_message(
    recording: Recording, signal: object, sender: object, times: int | None
) -> str | None:
    _check_times(times)
    found = _sends(recording, signal, sender)
    # A folded run of sends that reached no receiver is one Send counting them all.
    sent = sum(send.count for send in found)
    if (times is None and found) or sent == times:
        return None
    name = _signal_text(signal)
    by = "" if sender is ANY else f" with sender={_sender_text(recording, sender)}"
    if times is None:
        headline = f"Expected {name}{by} to be sent; it was not sent."
    else:
        headline = f"Expected {name}{by} to be sent {_times(times)}; it was sent {_times(sent)}."
    details = []
    if sender is not ANY:
        other = [send for send in _sends(recording, signal, ANY) if send not in found]
        if other:
            details.append(f"It was sent with other senders: {_others(other)}.")
    return _failure(recording, headline, details)


def _not_sent_message(recording: Recording, signal: object, sender: object) -> str | None:
    found = _sends(recording, signal, sender)
    if not found:
        return None
    by = "" if sender is ANY else f" with sender={_sender_text(recording, sender)}"
    headline = (
        f"Expected {_signal_text(signal)}{by} not to be sent; it was sent {_times(len(found))}."
    )
    places = [send.callsite for send in found if send.callsite]
    details = [f"First sent at {places[0]}."] if places else []
    return _failure(recording, headline, details)


def _received_message(
    recording: Recording,
    receiver: Callable[..., Any],
    signal: object,
    sender: object,
    times: int | None,
) -> str | None:
    _check_times(times)
    found = _calls(recording, receiver, signal, sender)
    if (times is None and found) or len(found) == times:
        return None
    name = naming.receiver_info(receiver).name
    about = _about(recording, signal, sender)
    if times is None:
        headline = f"Expected {name} to be called{about}; it was not called."
    else:
        headline = (
            f"Expected {name} to be called {_times(times)}{about}; "
            f"it was called {_times(len(found))}."
        )
    details = []
    if about:
        everywhere = _calls(recording, receiver, None, ANY)
        if len(everywhere) != len(found):
            details.append(f"It was called {_times(len(everywhere))} in all.")
    return _failure(recording, headline, details)


def _not_received_message(
    recording: Recording, receiver: Callable[..., Any], signal: object, sender: object
) -> str | None:
    found = _calls(recording, receiver, signal, sender)
    if not found:
        return None
    name = naming.receiver_info(receiver).name
    about = _about(recording, signal, sender)
    headline = (
        f"Expected {name} not to be called{about}; it was called {_times(len(found))}, "
        f"first by {found[0].send.signal_name} from sender {found[0].send.sender}."
    )
    return _failure(recording, headline)


def _about(recording: Recording, signal: object, sender: object) -> str:
    parts = []
    if signal is not None:
        parts.append(f" by {_signal_text(signal)}")
    if sender is not ANY:
        parts.append(f" with sender={_sender_text(recording, sender)}")
    return "".join(parts)


def _no_problems_message(recording: Recording, ignore: Iterable[str]) -> str | None:
    if isinstance(ignore, str):
        ignore = (ignore,)
    skipped = frozenset(ignore)
    problems: list[Problem] = [p for p in recording.problems if p.kind not in skipped]
    if not problems:
        return None
    listed = [f"  {problem.kind}: {problem.message}" for problem in problems]
    count = "1 signal problem" if len(problems) == 1 else f"{len(problems)} signal problems"
    return _failure(recording, f"Expected no signal problems; found {count}:", listed)


# -- the assertions -----------------------------------------------------------------------------


def assert_sent(
    recording: Recording | SignalRecording,
    signal: object,
    *,
    sender: object = ANY,
    times: int | None = None,
) -> None:
    """Assert that ``signal`` was sent (by ``sender``, if given): at least once when ``times`` is
    None, else exactly ``times`` times. Nested sends (made inside receivers) count."""
    __tracebackhide__ = True
    message = _sent_message(_unwrap(recording), signal, sender, times)
    if message is not None:
        raise SignalAssertionError(message)


def assert_not_sent(
    recording: Recording | SignalRecording, signal: object, *, sender: object = ANY
) -> None:
    """Assert that ``signal`` was not sent (by ``sender``, if given)."""
    __tracebackhide__ = True
    message = _not_sent_message(_unwrap(recording), signal, sender)
    if message is not None:
        raise SignalAssertionError(message)


def assert_received(
    recording: Recording | SignalRecording,
    receiver: Callable[..., Any],
    *,
    signal: object = None,
    sender: object = ANY,
    times: int | None = None,
) -> None:
    """Assert that ``receiver`` was called (for ``signal`` and ``sender``, if given): at least once
    when ``times`` is None, else exactly ``times`` times. Calls that raised count."""
    __tracebackhide__ = True
    message = _received_message(_unwrap(recording), receiver, signal, sender, times)
    if message is not None:
        raise SignalAssertionError(message)


def assert_not_received(
    recording: Recording | SignalRecording,
    receiver: Callable[..., Any],
    *,
    signal: object = None,
    sender: object = ANY,
) -> None:
    """Assert that ``receiver`` was not called (for ``signal`` and ``sender``, if given)."""
    __tracebackhide__ = True
    message = _not_received_message(_unwrap(recording), receiver, signal, sender)
    if message is not None:
        raise SignalAssertionError(message)


def assert_no_problems(
    recording: Recording | SignalRecording, *, ignore: Iterable[str] = ()
) -> None:
    """Assert that the recording has no problems (``Recording.problems``), except those of the
    kinds in ``ignore`` (e.g. ``ignore=["slow_receiver"]``, whose threshold depends on the
    machine the tests run on)."""
    __tracebackhide__ = True
    message = _no_problems_message(_unwrap(recording), ignore)
    if message is not None:
        raise SignalAssertionError(message)


class SignalRecording:
    """A :class:`~signal_panel.Recording` with the assertions as methods (what the pytest fixture
    ``signal_recording`` gives). ``recording`` is the recording itself."""

    def __init__(self, recording: Recording):
        self.recording = recording

    @property
    def sends(self) -> list[Send]:
        return self.recording.sends

    @property
    def roots(self) -> list[Send]:
        return self.recording.roots

    @property
    def calls(self) -> list[ReceiverCall]:
        return self.recording.calls

    @property
    def problems(self) -> list[Problem]:
        return self.recording.problems

    def format_tree(self, *, color: bool | None = None) -> str:
        return self.recording.format_tree(color=color)

    def assert_sent(
        self, signal: object, *, sender: object = ANY, times: int | None = None
    ) -> None:
        """See :func:`signal_panel.testing.assert_sent`."""
        __tracebackhide__ = True
        assert_sent(self.recording, signal, sender=sender, times=times)

    def assert_not_sent(self, signal: object, *, sender: object = ANY) -> None:
        """See :func:`signal_panel.testing.assert_not_sent`."""
        __tracebackhide__ = True
        assert_not_sent(self.recording, signal, sender=sender)

    def assert_received(
        self,
        receiver: Callable[..., Any],
        *,
        signal: object = None,
        sender: object = ANY,
        times: int | None = None,
    ) -> None:
        """See :func:`signal_panel.testing.assert_received`."""
        __tracebackhide__ = True
        assert_received(self.recording, receiver, signal=signal, sender=sender, times=times)

    def assert_not_received(
        self, receiver: Callable[..., Any], *, signal: object = None, sender: object = ANY
    ) -> None:
        """See :func:`signal_panel.testing.assert_not_received`."""
        __tracebackhide__ = True
        assert_not_received(self.recording, receiver, signal=signal, sender=sender)

    def assert_no_problems(self, *, ignore: Iterable[str] = ()) -> None:
        """See :func:`signal_panel.testing.assert_no_problems`."""
        __tracebackhide__ = True
        assert_no_problems(self.recording, ignore=ignore)

    def __repr__(self) -> str:
        return f"<SignalRecording {self.recording!r}>"


class SignalAssertionsMixin:
    """The assertions for ``unittest.TestCase`` (and Django's test cases), failing through
    ``self.fail`` (so with the test case's ``failureException``)::

        class CheckoutTests(SignalAssertionsMixin, TestCase):
            def test_order_saved_once(self):
                with record_signals() as recording:
                    place_order()
                self.assertSignalSent(recording, post_save, sender=Order, times=1)
    """

    def _signal_check(self, message: str | None) -> None:
        __tracebackhide__ = True
        if message is not None:
            # What TestCase.fail() does, without requiring the mixin to come after TestCase.
            failure: type[BaseException] = getattr(self, "failureException", AssertionError)
            raise failure(message)

    def assertSignalSent(
        self,
        recording: Recording | SignalRecording,
        signal: object,
        sender: object = ANY,
        times: int | None = None,
    ) -> None:
        """See :func:`signal_panel.testing.assert_sent`."""
        __tracebackhide__ = True
        self._signal_check(_sent_message(_unwrap(recording), signal, sender, times))

    def assertSignalNotSent(
        self, recording: Recording | SignalRecording, signal: object, sender: object = ANY
    ) -> None:
        """See :func:`signal_panel.testing.assert_not_sent`."""
        __tracebackhide__ = True
        self._signal_check(_not_sent_message(_unwrap(recording), signal, sender))

    def assertSignalReceived(
        self,
        recording: Recording | SignalRecording,
        receiver: Callable[..., Any],
        signal: object = None,
        sender: object = ANY,
        times: int | None = None,
    ) -> None:
        """See :func:`signal_panel.testing.assert_received`."""
        __tracebackhide__ = True
        self._signal_check(_received_message(_unwrap(recording), receiver, signal, sender, times))

    def assertSignalNotReceived(
        self,
        recording: Recording | SignalRecording,
        receiver: Callable[..., Any],
        signal: object = None,
        sender: object = ANY,
    ) -> None:
        """See :func:`signal_panel.testing.assert_not_received`."""
        __tracebackhide__ = True
        self._signal_check(_not_received_message(_unwrap(recording), receiver, signal, sender))

    def assertNoSignalProblems(
        self, recording: Recording | SignalRecording, ignore: Iterable[str] = ()
    ) -> None:
        """See :func:`signal_panel.testing.assert_no_problems`."""
        __tracebackhide__ = True
        self._signal_check(_no_problems_message(_unwrap(recording), ignore))
