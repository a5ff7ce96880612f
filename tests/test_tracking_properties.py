"""Whatever the settings and however many recordings are nested, what the program sees is
Django's: the same responses, exceptions and receiver arguments; and each recording stores what
its settings say (property-based, with hypothesis)."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator
from typing import Any

from django.dispatch import Signal
from hypothesis import given, settings
from hypothesis import strategies as st

from signal_panel import record_signals
from signal_panel.conf import get_config
from signal_panel.tracking import is_recording_anywhere
from signal_panel.tracking.django import methods
from tests.shapes import kwarg_names, receiver_kinds, receiver_of

SIGNAL_PATH = "tests.test_tracking_properties.traced"
traced = Signal()
inner = Signal()


@contextlib.contextmanager
def recordings(count: int, max_calls: int, ignore: bool) -> Iterator[list[Any]]:
    config = dataclasses.replace(
        get_config(),
        max_calls=max_calls,
        ignore_signals=frozenset({SIGNAL_PATH} if ignore else set()),
    )
    with contextlib.ExitStack() as stack:
        yield [stack.enter_context(record_signals(config)) for _ in range(count)]


def run(kinds: list[str], names: list[str], robust: bool, nest: bool) -> tuple[Any, list[Any]]:
    """Send ``traced`` to receivers of ``kinds`` (each also sending ``inner`` when ``nest``);
    return what the caller got (responses, or the exception's type and text) and what the
    receivers were called with."""
    seen: list[Any] = []
    receivers = [receiver_of(kind, seen) for kind in kinds]

    def sends_inner(sender: Any, **kwargs: Any) -> str:
        inner.send(sender=sender)
        return "nested"

    for receiver in receivers:
        traced.connect(receiver, weak=False)
    if nest:
        traced.connect(sends_inner, weak=False)
    inner.connect(receiver_of("function", seen), weak=False)
    method = traced.send_robust if robust else traced.send
    try:
        responses = method(sender="s", **{name: index for index, name in enumerate(names)})
        got: Any = [
            (type(value).__name__, str(value)) if isinstance(value, Exception) else value
            for _receiver, value in responses
        ]
    except Exception as error:
        got = (type(error).__name__, str(error))
    finally:
        traced.receivers.clear()
        traced.sender_receivers_cache.clear()
        inner.receivers.clear()
        inner.sender_receivers_cache.clear()
    return got, seen


@settings(max_examples=60, deadline=None)
@given(
    kinds=receiver_kinds,
    names=kwarg_names,
    robust=st.booleans(),
    nest=st.booleans(),
    count=st.integers(min_value=0, max_value=3),
    max_calls=st.integers(min_value=1, max_value=6),
    ignore=st.booleans(),
)
def test_nothing_the_program_sees_changes(
    kinds: list[str],
    names: list[str],
    robust: bool,
    nest: bool,
    count: int,
    max_calls: int,
    ignore: bool,
) -> None:
    vanilla = run(kinds, names, robust, nest)
    with recordings(count, max_calls, ignore) as active:
        recorded = run(kinds, names, robust, nest)
    assert recorded == vanilla
    # The recordings ended: nothing records anywhere (the recorded methods stay on the class).
    assert not is_recording_anywhere()
    assert Signal.__dict__["send"] is methods.recorded["send"][2]
    for recording in active:
        calls = recording.calls
        assert len(calls) <= max_calls
        assert recording.call_count == len(calls) + recording.dropped_calls
        if ignore:
            assert all(send.signal is not traced for send in recording.sends)
        else:
            assert recording.sends[0].signal is traced
        for send in recording.sends:
            if send.signal is inner:  # nested under the receiver that sent it, when stored
                assert send.parent is None or send.parent.receiver_name.endswith("sends_inner")
