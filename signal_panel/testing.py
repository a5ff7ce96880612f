"""Assertions about the signals some code sent, for pytest, ``unittest`` and Django's TestCase.

Record with :func:`signal_panel.record_signals`, then assert on the recording::

    with record_signals() as recording:
        Author.objects.create(name="Ann")
    assert_sent(recording, post_save, sender=Author, times=1)

:func:`assert_order` checks the order of sends and receiver calls, and :func:`mute_receivers`
keeps chosen receivers from being called while a block runs (the pytest fixture
``mute_receivers`` does so until the test ends).

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

import contextlib
import difflib
import functools
import inspect
import threading
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, NamedTuple, TypeVar

from signal_panel import naming

if TYPE_CHECKING:
    from signal_panel.problems import Problem
    from signal_panel.recording import ReceiverCall, Recording, Send

__all__ = [
    "ANY",
    "KeptValue",
    "Muting",
    "ReceiverNotConnectedError",
    "SignalAssertionError",
    "SignalAssertionsMixin",
    "SignalRecording",
    "assert_no_problems",
    "assert_not_received",
    "assert_not_sent",
    "assert_order",
    "assert_received",
    "assert_sent",
    "mute_receivers",
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


class KeptValue(NamedTuple):
    """What a predicate passed to ``assert_sent(..., name=predicate)`` is called with for an
    argument the recording did not keep as it was: what was kept of it when the signal was sent.
    (``None``, bools, numbers, and str or bytes no longer than ``SUMMARY_LENGTH`` were kept as
    they were: the predicate gets the value itself.)"""

    #: ``"model"`` (a model instance), ``"queryset"`` (a queryset or manager), ``"class"``,
    #: ``"items"`` (a list, tuple, set, frozenset or dict), ``"text"`` (a longer str or bytes),
    #: ``"named"`` (a function, an enum member, a date, a ``Decimal``...) or ``"object"``.
    kind: str
    #: The model's label (``"auth.User"``) for ``"model"`` and ``"queryset"``, the class's label
    #: for ``"class"`` and ``"object"``, the type's name for ``"items"``; else None.
    label: str | None
    #: For ``"model"``: the primary key when the signal was sent (None if unsaved); else None.
    pk: Any
    #: The one-line summary the tree shows (not masked: the predicate is the test's own code).
    text: str
    #: For ``"items"`` and ``"text"``: the length; else None.
    length: int | None


def _is_predicate(expected: object) -> bool:
    from django.db.models import Model

    return callable(expected) and not isinstance(expected, type) and not isinstance(expected, Model)


def _predicate_argument(kept: Any, limit: int) -> Any:
    if type(kept) is not tuple:
        return kept
    kind, label, pk, length = naming.kept_parts(kept)
    return KeptValue(kind, label, pk, naming.describe(kept, limit), length)


def _predicate_error(predicate: Any, kept: Any, limit: int) -> str | None:
    """None when ``predicate`` accepts the kept value, else why not. A predicate that raises does
    not match (it sees the arguments of every send of the signal, ``None`` ones too)."""
    try:
        if predicate(_predicate_argument(kept, limit)):
            return None
    except Exception as exc:
        return f"it raised {type(exc).__name__}: {exc}"
    return "it returned false"


def _value_matches(expected: object, kept: Any, limit: int) -> bool:
    if expected is ANY:
        return True
    if _is_predicate(expected):
        return _predicate_error(expected, kept, limit) is None
    wanted = naming.snapshot(expected, limit)
    if type(wanted) is bool or type(kept) is bool:  # True == 1, but created=1 is not created=True
        return type(wanted) is type(kept) and wanted == kept
    return bool(wanted == kept)


_MISSING = object()


def _mismatches(
    recording: Recording, send: Send, sender: object, kwargs: dict[str, Any]
) -> list[str]:
    """The names (``"sender"`` first) of what ``send`` does not match."""
    limit = recording.config.summary_length
    found = []
    if sender is not ANY and send.sender != _sender_text(recording, sender):
        found.append("sender")
    arguments = send.arguments
    for name, expected in kwargs.items():
        kept = arguments.get(name, _MISSING)
        if kept is _MISSING or not _value_matches(expected, kept, limit):
            found.append(name)
    return found


def _expected_text(recording: Recording, name: str, expected: object) -> str:
    config = recording.config
    if expected is ANY:
        return "ANY"
    if _is_predicate(expected):
        return f"a value {naming.receiver_info(expected).name} accepts"
    if naming.is_secret(name, config.secret_pattern):
        return naming.mask()
    limit = config.summary_length
    return naming.describe(naming.snapshot(expected, limit), limit, config.secret_pattern)


def _closest(
    recording: Recording, signal: object, sender: object, kwargs: dict[str, Any]
) -> list[str]:
    """The sends of ``signal`` that match most of ``sender`` and ``kwargs`` (up to 3), each with
    what it does not match: expected, then what was sent (masked as ``Send.kwargs`` masks)."""
    scored = []
    for send in _sends(recording, signal, ANY):
        wrong = _mismatches(recording, send, sender, kwargs)
        if wrong:
            scored.append((len(wrong), send, wrong))
    if not scored:
        return []
    scored.sort(key=lambda item: item[0])  # stable: equally close ones in the order sent
    others = sum(send.count for _count, send, _wrong in scored)
    lines = [f"It was sent {_times(others)} otherwise; the closest:"]
    for _count, send, wrong in scored[:3]:
        where = f" at {send.callsite}" if send.callsite else ""
        lines.append(f"  sender={send.sender}{where}:")
        shown = send.kwargs
        for name in wrong:
            if name == "sender":
                expected, sent = _sender_text(recording, sender), send.sender
            else:
                expected = _expected_text(recording, name, kwargs[name])
                sent = shown.get(name, "(not sent)")
                kept = send.arguments.get(name, _MISSING)
                if kept is not _MISSING and _is_predicate(kwargs[name]):
                    limit = recording.config.summary_length
                    sent = f"{sent} ({_predicate_error(kwargs[name], kept, limit)})"
            lines.append(f"    {name}: expected {expected}, sent {sent}")
    return lines


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
    recording: Recording,
    signal: object,
    sender: object,
    times: int | None,
    kwargs: dict[str, Any] | None = None,
) -> str | None:
    _check_times(times)
    found = _sends(recording, signal, sender)
    if kwargs:
        found = [send for send in found if not _mismatches(recording, send, ANY, kwargs)]
    # A folded run of sends that reached no receiver is one Send counting them all.
    sent = sum(send.count for send in found)
    if (times is None and found) or sent == times:
        return None
    name = _signal_text(signal)
    wanted = [] if sender is ANY else [f"sender={_sender_text(recording, sender)}"]
    if kwargs:
        wanted.extend(f"{key}={_expected_text(recording, key, v)}" for key, v in kwargs.items())
    by = f" with {', '.join(wanted)}" if wanted else ""
    if times is None:
        headline = f"Expected {name}{by} to be sent; it was not sent."
    else:
        headline = f"Expected {name}{by} to be sent {_times(times)}; it was sent {_times(sent)}."
    details = []
    if kwargs:
        details.extend(_closest(recording, signal, sender, kwargs))
        folded = sum(send.count for send in _sends(recording, signal, ANY) if send.count > 1)
        if folded:
            details.append(
                f"{_times(folded).removesuffix(' times').removesuffix(' time')} of its sends "
                "reached no receiver and were stored as runs of alike sends, each with the "
                "arguments of its first send only."
            )
    elif sender is not ANY:
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


#: Longest list of events shown by a failed order assertion.
_ORDER_LINES = 50

#: An event of the recording: a send or a receiver call.
_Event = Any
#: One step of :func:`assert_order`: its text, and which events it matches.
_Step = tuple[str, Callable[[_Event], bool]]


def _events(recording: Recording) -> list[_Event]:
    """Every send and receiver call, in the order they started (a send before its calls, a call
    before the sends made inside it, when the clock cannot tell them apart)."""
    ordered: list[_Event] = []
    stack: list[_Event] = list(reversed(recording.roots))
    seen: set[int] = set()
    while stack:
        event = stack.pop()
        ordered.append(event)
        seen.add(id(event))
        stack.extend(reversed(event.calls if event in recording else event.sends))
    # Sends whose receiver call was not stored (past MAX_CALLS) are not under any root.
    ordered.extend(e for e in [*recording.sends, *recording.calls] if id(e) not in seen)
    ordered.sort(key=lambda event: event.start_ns)  # stable: ties keep the tree's order
    return ordered


def _is_send(recording: Recording, event: _Event) -> bool:
    return event in recording  # Recording.__contains__ holds for its sends only


def _event_text(recording: Recording, event: _Event) -> str:
    if _is_send(recording, event):
        return f"{event.signal_name}(sender={event.sender})"
    send = event.send
    return f"{event.receiver_name}, receiving {send.signal_name}(sender={send.sender})"


def _signal_step(recording: Recording, signal: object, sender: object) -> _Step:
    text = _signal_text(signal)
    if sender is not ANY:
        label = _sender_text(recording, sender)
        text = f"{text} with sender={label}"
        return (
            text,
            lambda e: _is_send(recording, e) and _signal_matches(e, signal) and e.sender == label,
        )
    return text, lambda e: _is_send(recording, e) and _signal_matches(e, signal)


def _receiver_step(recording: Recording, receiver: object) -> _Step:
    info = naming.receiver_info(receiver)
    key = info.logical_key
    return info.name, lambda e: not _is_send(recording, e) and e.logical_key == key


def _order_step(recording: Recording, step: object) -> _Step:
    from signal_panel.registry import is_signal

    if type(step) is tuple:
        if len(step) != 2 or not (isinstance(step[0], str) or is_signal(step[0])):
            raise TypeError(f"an order step tuple is (signal, sender), not {step!r}")
        return _signal_step(recording, step[0], step[1])
    if isinstance(step, str):
        signal = any(send.signal_name == step for send in recording.sends)
        receiver = any(call.receiver_name == step for call in recording.calls)
        if signal and receiver:
            raise ValueError(
                f"{step!r} names both a signal and a receiver of the recording: pass the signal "
                "or the receiver itself"
            )
        if receiver:
            return step, lambda e: not _is_send(recording, e) and e.receiver_name == step
        return _signal_step(recording, step, ANY)
    if is_signal(step):
        return _signal_step(recording, step, ANY)
    if callable(step):
        return _receiver_step(recording, step)
    raise TypeError(
        "an order step is a signal, a receiver, a (signal, sender) tuple or a dotted name, "
        f"not {step!r}"
    )


def _order_message(recording: Recording, steps: tuple[object, ...]) -> str | None:
    if not steps:
        raise TypeError("assert_order() needs at least one step")
    resolved = [_order_step(recording, step) for step in steps]
    events = _events(recording)
    position = 0
    number = 0
    while number < len(resolved):
        matches = resolved[number][1]
        at = next((i for i in range(position, len(events)) if matches(events[i])), None)
        if at is None:
            break
        position = at + 1
        number += 1
    else:
        return None
    text = resolved[number][0]
    expected = ", then ".join(step_text for step_text, _ in resolved)
    if number == 0 or not any(matches(event) for event in events):
        failed = f"{text} did not happen."
    else:
        failed = f"{text} did not happen after {resolved[number - 1][0]}."
    headline = f"Expected {expected}; {failed}"
    relevant = [e for e in events if any(step_matches(e) for _, step_matches in resolved)]
    if relevant:
        details = ["What happened of those, in order:"]
        shown = relevant[:_ORDER_LINES]
        details.extend(f"  {i}. {_event_text(recording, e)}" for i, e in enumerate(shown, 1))
        if len(relevant) > len(shown):
            details.append(f"  … {len(relevant) - len(shown)} more")
    else:
        details = ["None of those happened."]
    return _failure(recording, headline, details)


# -- the assertions -----------------------------------------------------------------------------


def assert_sent(
    recording: Recording | SignalRecording,
    signal: object,
    *,
    sender: object = ANY,
    times: int | None = None,
    **kwargs: Any,
) -> None:
    """Assert that ``signal`` was sent (by ``sender``, if given, and with the keyword arguments
    ``kwargs``, if given): at least once when ``times`` is None, else exactly ``times`` times
    (only the sends that match count). Nested sends (made inside receivers) count.

    Each keyword argument is compared with what the recording kept of the one sent: ``None``,
    bools (only with bools), numbers, str and bytes by value; a model instance by its label and
    primary key (as they were when sent); a model class, another class, a queryset, a container
    or a long string by what was kept of it (label, type, length, first items or characters);
    ``ANY`` matches any value the send had. A callable (not a class, not a model instance) is a
    predicate: it is called with the kept value (the value itself for ``None``, bools, numbers
    and short str or bytes, else a :class:`KeptValue`) and matches when it returns true (not
    when it raises: it sees every send's value, ``None`` too). A failure lists the closest sends
    of ``signal`` and what they got wrong, masked as :attr:`Send.kwargs
    <signal_panel.Send.kwargs>` masks secrets.

    A run of alike sends that reached no receiver is stored once (:attr:`Send.count
    <signal_panel.Send.count>`) with the arguments of its first send: the whole run matches, or
    not, by those."""
    __tracebackhide__ = True
    message = _sent_message(_unwrap(recording), signal, sender, times, kwargs)
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


def assert_order(recording: Recording | SignalRecording, *steps: object) -> None:
    """Assert that the ``steps`` happened in this order, other sends and calls in between or not.

    The recording's sends and receiver calls are taken in the order they started (a send before
    its receivers' calls, a call before the sends made inside it), and each step must match one
    of them after the one the step before matched. A step is a signal (matching its sends), a
    ``(signal, sender)`` tuple (its sends by that sender), a receiver (its calls, matched as in
    :func:`assert_received`), or a dotted name: of a signal sent, or of a receiver called, in the
    recording (a name that is both raises ``ValueError``; one that is neither is taken as a
    signal's). A failure lists the events the steps match, in the order they happened."""
    __tracebackhide__ = True
    message = _order_message(_unwrap(recording), steps)
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
        self, signal: object, *, sender: object = ANY, times: int | None = None, **kwargs: Any
    ) -> None:
        """See :func:`signal_panel.testing.assert_sent`."""
        __tracebackhide__ = True
        assert_sent(self.recording, signal, sender=sender, times=times, **kwargs)

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

    def assert_order(self, *steps: object) -> None:
        """See :func:`signal_panel.testing.assert_order`."""
        __tracebackhide__ = True
        assert_order(self.recording, *steps)

    def assert_no_problems(self, *, ignore: Iterable[str] = ()) -> None:
        """See :func:`signal_panel.testing.assert_no_problems`."""
        __tracebackhide__ = True
        assert_no_problems(self.recording, ignore=ignore)

    def mute(self, *receivers: Callable[..., Any] | str, signal: object = None) -> Muting:
        """See :func:`signal_panel.testing.mute_receivers`."""
        return mute_receivers(*receivers, signal=signal)

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
        **kwargs: Any,
    ) -> None:
        """See :func:`signal_panel.testing.assert_sent`."""
        __tracebackhide__ = True
        self._signal_check(_sent_message(_unwrap(recording), signal, sender, times, kwargs))

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

    def assertSignalOrder(self, recording: Recording | SignalRecording, *steps: object) -> None:
        """See :func:`signal_panel.testing.assert_order`."""
        __tracebackhide__ = True
        self._signal_check(_order_message(_unwrap(recording), steps))

    def assertNoSignalProblems(
        self, recording: Recording | SignalRecording, ignore: Iterable[str] = ()
    ) -> None:
        """See :func:`signal_panel.testing.assert_no_problems`."""
        __tracebackhide__ = True
        self._signal_check(_no_problems_message(_unwrap(recording), ignore))


# -- muting receivers ---------------------------------------------------------------------------


class ReceiverNotConnectedError(LookupError):
    """:func:`mute_receivers` was given a receiver connected to none of the signals it searched."""


#: Serialises mutes and their ends (always taken before a signal's own lock).
_mute_lock = threading.Lock()
#: ``(signal, what was taken out of it)`` for each mute active now, to let nested mutes find
#: the receivers an enclosing mute holds.
_active: list[tuple[Any, Any]] = []

_F = TypeVar("_F", bound=Callable[..., Any])


def _receiver_matcher(receiver: object) -> Callable[[object], bool]:
    if isinstance(receiver, str):
        return lambda live: naming.receiver_info(live).name == receiver
    if callable(receiver):
        key = naming.receiver_info(receiver).logical_key
        return lambda live: naming.receiver_info(live).logical_key == key
    raise TypeError(f"a receiver to mute is a callable or its dotted name, not {receiver!r}")


def _signals_to_search(signal: object) -> list[Any]:
    """The Django signals a mute searches: ``signal`` (one, a dotted name, or an iterable of
    them), or every Django signal the process can find without a garbage collector's walk."""
    from django.dispatch import Signal

    from signal_panel import registry

    if signal is None:
        found: dict[int, Any] = {}
        candidates = [s for _name, s in registry.known_signals()]
        candidates += registry.signals_with_connections()
        candidates += [held for held, _taken in _active]
        for candidate in candidates:
            if isinstance(candidate, Signal):
                found.setdefault(id(candidate), candidate)
        return list(found.values())
    given = [signal] if isinstance(signal, str) or registry.is_signal(signal) else list(signal)  # type: ignore[call-overload]
    signals = []
    for item in given:
        if isinstance(item, str):
            resolved, missing = registry.resolve_signals([item])
            if missing:
                raise LookupError(f"no imported module defines a signal named {item!r}")
            item = resolved[0]
        if not isinstance(item, Signal):
            what = "a blinker signal" if registry.is_signal(item) else "not a signal"
            raise TypeError(
                f"mute_receivers() mutes receivers of Django signals; {item!r} is {what}"
            )
        signals.append(item)
    return signals


def _not_connected(missing: list[object], signals: list[Any]) -> str:
    from signal_panel.registry import signal_name
    from signal_panel.tracking.django import receiver_entries

    names = [item if isinstance(item, str) else naming.receiver_info(item).name for item in missing]
    if len(signals) <= 5:
        where = " or ".join(sorted(signal_name(signal) for signal in signals)) or "no signal"
    else:
        where = f"any of the {len(signals)} Django signals searched (pass signal= to name one)"
    connected: dict[str, list[str]] = {}
    for signal in signals:
        for _key, receiver, _weak, _is_async in receiver_entries(signal):
            if receiver is not None:
                name = naming.receiver_info(receiver).name
                connected.setdefault(name, []).append(signal_name(signal))
    lines = [f"Cannot mute {', '.join(names)}: not connected to {where}."]
    for name in names:
        for close in difflib.get_close_matches(name, list(connected), n=3, cutoff=0.8):
            lines.append(
                f"Connected, with a close name: {close} (to {', '.join(connected[close])})."
            )
    return "\n".join(lines)


def _mute(receivers: tuple[object, ...], signals: list[Any]) -> list[tuple[Any, Any]]:
    from signal_panel.tracking import django as tracked
    from signal_panel.tracking import install

    install()  # disconnect() must be the wrapped one: a muted receiver disconnected stays out
    matchers = [_receiver_matcher(receiver) for receiver in receivers]
    found = [False] * len(matchers)

    def matches(live: object) -> bool:
        hit = False
        for index, matcher in enumerate(matchers):
            if matcher(live):
                found[index] = hit = True
        return hit

    searched = {id(signal) for signal in signals}
    taken_all: list[tuple[Any, Any]] = []
    with _mute_lock:
        # A receiver an enclosing mute holds is connected, and muted already: found, left alone.
        for held, taken in _active:
            if id(held) in searched:
                for _index, entry in taken:
                    live = tracked.entry_receiver(entry)
                    if live is not None:
                        matches(live)
        try:
            for signal in signals:
                taken = tracked.mute(signal, matches)
                if taken:
                    taken_all.append((signal, taken))
            missing = [receiver for receiver, hit in zip(receivers, found, strict=True) if not hit]
            if missing:
                raise ReceiverNotConnectedError(_not_connected(missing, signals))
        except BaseException:
            for signal, taken in reversed(taken_all):
                tracked.unmute(signal, taken)
            raise
        _active.extend(taken_all)
    return taken_all


def _unmute(taken_all: list[tuple[Any, Any]]) -> None:
    from signal_panel.tracking import django as tracked

    with _mute_lock:
        for signal, taken in reversed(taken_all):
            tracked.unmute(signal, taken)
            for index, (held, held_taken) in enumerate(_active):
                if held is signal and held_taken is taken:
                    del _active[index]
                    break


class Muting(contextlib.ContextDecorator):
    """What :func:`mute_receivers` returns: a context manager, and a decorator of functions and
    coroutine functions (each call mutes anew). Entering it again while it is active nests."""

    def __init__(self, receivers: tuple[Callable[..., Any] | str, ...], signal: object):
        if not receivers:
            raise TypeError("mute_receivers() needs at least one receiver")
        for receiver in receivers:
            _receiver_matcher(receiver)  # a wrong type fails here, not when the block starts
        self._receivers = receivers
        self._signal = signal
        self._held: list[list[tuple[Any, Any]]] = []

    def _recreate_cm(self) -> Muting:
        return Muting(self._receivers, self._signal)

    def __call__(self, func: _F) -> _F:
        if inspect.iscoroutinefunction(func):

            @functools.wraps(func)
            async def muted(*args: Any, **kwargs: Any) -> Any:
                with self._recreate_cm():
                    return await func(*args, **kwargs)

            return muted  # type: ignore[return-value]
        return super().__call__(func)

    def __enter__(self) -> Muting:
        self._held.append(_mute(self._receivers, _signals_to_search(self._signal)))
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        _unmute(self._held.pop())

    def __repr__(self) -> str:
        names = [r if isinstance(r, str) else naming.receiver_info(r).name for r in self._receivers]
        return f"<Muting {', '.join(names)}>"


def mute_receivers(*receivers: Callable[..., Any] | str, signal: object = None) -> Muting:
    """Keep ``receivers`` from being called while a block (or a decorated function) runs; every
    other receiver runs as before. Usable as ``with mute_receivers(...):`` and as a decorator.

    A receiver is a callable, matched as :func:`assert_received` matches (the same function, any
    bound method of the same method, ...), or the dotted name of a receiver
    (``"myapp.receivers.send_welcome_email"``). It is looked for in ``signal`` (a Django signal,
    its dotted name, or an iterable of those), or else in every Django signal the process knows.
    Every receiver connected there that matches is muted, to every sender. A receiver found
    nowhere raises :class:`ReceiverNotConnectedError` (a ``LookupError``) naming it, the signals
    searched and the connected receivers with close names. Blinker signals raise ``TypeError``.

    Muting is not a disconnection: the entries are taken out of ``Signal.receivers`` as they are
    (weak references stay weak, so a receiver can still be collected; lookup keys such as
    ``dispatch_uid`` stay), and put back where they were, in their order, when the block ends,
    whether it raised or not. A receiver collected meanwhile, disconnected meanwhile, or
    connected anew meanwhile is not put back (the new connection stays). ``connect()`` and
    ``disconnect()`` are not called, so a recording sees no connection event. A receiver muted
    already by an enclosing block is found and stays muted until that block ends. Muting acts on
    the signal itself, so every thread and task of the process sees it while the block runs."""
    return Muting(receivers, signal)
