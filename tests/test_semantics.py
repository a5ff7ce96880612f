"""Recording changes nothing the observed code can see (issue 2, "Nothing changes").

The property-based tests run the same random mix of receivers twice, once with nothing recording
(Django's own methods run) and once recording, and compare everything a caller can observe.
"""

from __future__ import annotations

import asyncio
import contextvars
import gc
import logging
import weakref
from collections.abc import Callable
from typing import Any
from unittest import mock

import pytest
from django.dispatch import Signal
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from signal_panel import record_signals
from signal_panel.tracking import django as django_signals
from tests.fresh import run_script
from tests.shapes import kwarg_names, receiver_kinds, receiver_of


class Boom(Exception):
    pass


class Fatal(BaseException):
    """Not an Exception: send_robust must let it through too."""


# A receiver spec: (is_async, outcome) where outcome is "return", "raise" or "base".
receiver_specs = st.lists(
    st.tuples(st.booleans(), st.sampled_from(["return", "return", "raise", "base"])),
    max_size=6,
)


def build(specs: list[tuple[bool, str]]) -> tuple[Signal, list[Callable[..., Any]], dict[int, Any]]:
    """A fresh signal with one receiver per spec; outcomes are pre-made objects, so the vanilla
    and the recorded run can be compared by identity."""
    signal = Signal()
    receivers = []
    outcomes: dict[int, Any] = {}
    for index, (is_async, outcome) in enumerate(specs):
        value: Any = {"return": object(), "raise": Boom(index), "base": Fatal(index)}[outcome]
        outcomes[index] = value

        if is_async:

            async def receiver(sender: Any, _v: Any = value, **kwargs: Any) -> Any:
                await asyncio.sleep(0)
                if isinstance(_v, BaseException):
                    raise _v
                return _v

        else:

            def receiver(sender: Any, _v: Any = value, **kwargs: Any) -> Any:  # type: ignore[misc]
                if isinstance(_v, BaseException):
                    raise _v
                return _v

        receiver.__qualname__ = f"receiver_{index}"
        receivers.append(receiver)
        signal.connect(receiver, weak=False)
    return signal, receivers, outcomes


def outcome_of(call: Callable[[], Any]) -> tuple[str, Any]:
    try:
        return ("returned", call())
    except BaseException as exc:
        return ("raised", exc)


def normalise(result: tuple[str, Any]) -> tuple[str, Any]:
    """Exceptions propagated through asyncio may be wrapped differently per run; compare what
    the caller sees: the returned list (by identity of its items) or the exception object."""
    kind, value = result
    if kind == "returned":
        return kind, [(id(receiver), id(response)) for receiver, response in value]
    return kind, id(value)


def racing(method: str, specs: list[tuple[bool, str]]) -> bool:
    failing = {
        is_async
        for is_async, outcome in specs
        if outcome == "base" or (outcome == "raise" and not method.endswith("robust"))
    }
    return (
        method.startswith("a") and django_signals._RUN_PARALLEL is None and failing == {True, False}
    )


def run_method(signal: Signal, method: str) -> tuple[str, Any]:
    if method.startswith("a"):
        return outcome_of(lambda: asyncio.run(getattr(signal, method)(sender=None, x=1)))
    return outcome_of(lambda: getattr(signal, method)(sender=None, x=1))


@pytest.mark.parametrize("method", ["send", "send_robust", "asend", "asend_robust"])
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(specs=receiver_specs)
def test_recording_returns_and_raises_what_django_does(method: str, specs: list[Any]) -> None:
    # The async runs on Django 6 group several failures into one BaseExceptionGroup whose
    # identity differs per run; those are compared by the exceptions they hold.
    signal, _receivers, outcomes = build(specs)
    logging.disable(logging.CRITICAL)
    try:
        vanilla = run_method(signal, method)
        with record_signals() as recording:
            recorded = run_method(signal, method)
    finally:
        logging.disable(logging.NOTSET)
    if racing(method, specs):
        # Django 5.2's asend() runs the sync group (in a thread) concurrently with the async
        # receivers: which failure propagates first varies from run to run, recorded or not.
        assert vanilla[0] == recorded[0] == "raised"
        assert any(recorded[1] is value for value in outcomes.values())
    elif vanilla[0] == "raised" and isinstance(vanilla[1], BaseExceptionGroup):
        assert recorded[0] == "raised"
        assert type(recorded[1]) is type(vanilla[1])
        assert [id(e) for e in recorded[1].exceptions] == [id(e) for e in vanilla[1].exceptions]
    else:
        assert normalise(recorded) == normalise(vanilla)
    assert len(recording.sends) == 1


@settings(max_examples=30, deadline=None)
@given(specs=receiver_specs)
def test_send_returns_the_original_receiver_objects(specs: list[Any]) -> None:
    specs = [(False, "return") for _ in specs]
    signal, receivers, outcomes = build(specs)
    with record_signals():
        responses = signal.send(sender=None)
    assert [receiver for receiver, _ in responses] == receivers
    assert all(a is b for (a, _), b in zip(responses, receivers, strict=True))
    assert [response for _, response in responses] == [outcomes[i] for i in range(len(specs))]


@pytest.mark.parametrize("method", ["send", "send_robust"])
@settings(max_examples=60, deadline=None)
@given(names=kwarg_names, kinds=receiver_kinds)
def test_receivers_are_called_with_the_same_arguments(
    method: str, names: list[str], kinds: list[str]
) -> None:
    """Any number of kwargs (the compiled path calls receivers one way up to 14 kwargs and another
    past that), to receivers of any shape: each gets the same arguments, in the same order, and
    one that cannot take them fails with the same error."""
    values = {name: object() for name in names}
    seen: list[Any] = []
    signal = Signal()
    receivers = [receiver_of(kind, seen) for kind in kinds]
    for receiver in receivers:
        signal.connect(receiver, weak=False)
    # send() stops at the first receiver that fails: one that cannot take the kwargs.
    reached = len(kinds)
    if method == "send" and names and "named_only" in kinds:
        reached = kinds.index("named_only") + 1

    def run(record: bool) -> tuple[list[Any], list[Any], tuple[str, Any]]:
        seen.clear()
        for receiver in receivers:
            if isinstance(receiver, mock.Mock):
                receiver.reset_mock()
        logging.disable(logging.CRITICAL)
        try:
            if record:
                with record_signals() as recording:
                    result = outcome_of(lambda: getattr(signal, method)(sender="s", **values))
                assert len(recording.sends) == 1
                assert len(recording.sends[0].calls) == reached
            else:
                result = outcome_of(lambda: getattr(signal, method)(sender="s", **values))
        finally:
            logging.disable(logging.NOTSET)
        mocks = [list(r.call_args_list) for r in receivers if isinstance(r, mock.Mock)]
        kind, value = result
        if kind == "raised":
            shown: Any = (type(value), str(value))
        else:
            shown = [
                (type(response), str(response)) if isinstance(response, Exception) else response
                for _receiver, response in value
            ]
        return list(seen), mocks, (kind, shown)

    vanilla, recorded = run(record=False), run(record=True)
    assert recorded == vanilla


def test_send_robust_logs_the_original_receiver(caplog: pytest.LogCaptureFixture) -> None:
    signal = Signal()

    def failing_receiver(sender: Any, **kwargs: Any) -> None:
        raise Boom("logged")

    signal.connect(failing_receiver)
    with caplog.at_level(logging.ERROR, logger="django.dispatch"), record_signals():
        responses = signal.send_robust(sender=None)
    assert responses[0][0] is failing_receiver
    assert len(caplog.records) == 1
    assert "failing_receiver" in caplog.records[0].getMessage()
    assert caplog.records[0].exc_info is not None
    assert caplog.records[0].exc_info[1] is responses[0][1]


def test_has_listeners_is_unchanged_while_recording() -> None:
    signal = Signal()

    def receiver(sender: Any, **kwargs: Any) -> None:
        pass

    signal.connect(receiver, sender=str)
    with record_signals():
        assert signal.has_listeners(sender=str)
        assert not signal.has_listeners(sender=int)


def test_no_receiver_fast_path_fills_the_sender_cache_as_django_does() -> None:
    vanilla, recorded = Signal(use_caching=True), Signal(use_caching=True)
    for signal in (vanilla, recorded):

        def receiver(sender: Any, **kwargs: Any) -> None:
            pass

        signal.connect(receiver, sender=int, weak=False)

    class Sender:
        pass

    vanilla.send(sender=Sender)
    with record_signals() as recording:
        recorded.send(sender=Sender)
        recorded.send(sender=Sender)
    assert dict(vanilla.sender_receivers_cache) == dict(recorded.sender_receivers_cache)
    # Two alike sends that reached no receiver: one entry counting both.
    assert [(send.count, send.calls) for send in recording.sends] == [(2, [])]


# Runs in a fresh interpreter: the app is installed and ready, and nothing has recorded yet.
_FIRST_RECORDING = """
import json
import django
django.setup()
from django.dispatch import Signal
from signal_panel import record_signals
from signal_panel.tracking import blinker, database, django as django_signals

switches = (django_signals.methods, database.methods, blinker.methods)

def on_classes():
    return sorted(
        f"{cls.__name__}.{name}"
        for switch in switches
        for cls, name, method in switch.recorded.values()
        if cls.__dict__[name] is method
    )

before = on_classes()
signal = Signal()
signal.connect(lambda sender, **kwargs: "ok", weak=False)
idle = [response for _receiver, response in signal.send(sender=None)]

def recursion_depth():
    again, depth = Signal(), [0]

    def receiver(sender, **kwargs):
        depth[0] += 1
        again.send(sender=None)

    again.connect(receiver)
    try:
        again.send(sender=None)
    except RecursionError:
        pass
    return depth[0]

djangos_depth = recursion_depth()
with record_signals() as recording:
    signal.send(sender=None)
after_first = on_classes()
idle_depth = recursion_depth()
changes = [switch.changes for switch in switches]
for _ in range(50):
    with record_signals():
        signal.send(sender=None)
print(json.dumps({
    "before": before,
    "idle": idle,
    "recorded": len(recording.sends),
    "after_first": after_first,
    "recorded_methods": sorted(
        f"{cls.__name__}.{name}"
        for switch in switches
        for cls, name, _method in switch.recorded.values()
    ),
    "changes_after_first": changes,
    "changes_after_fifty_more": [switch.changes for switch in switches],
    "still_on": on_classes() == after_first,
    "depths": [djangos_depth, idle_depth],
}))
"""


@pytest.fixture(scope="module")
def first_recording() -> dict[str, Any]:
    result: dict[str, Any] = run_script(_FIRST_RECORDING)
    return result


def test_a_process_that_never_recorded_runs_the_libraries_own_methods(
    first_recording: dict[str, Any],
) -> None:
    assert first_recording["before"] == []
    assert first_recording["idle"] == ["ok"]


def test_after_the_first_recording_a_send_nothing_records_runs_in_one_frame_as_djangos(
    first_recording: dict[str, Any],
) -> None:
    """Django's code, in the recorded method's frame: a recursion of sends reaches the depth it
    reaches before anything recorded."""
    djangos, idle = first_recording["depths"]
    assert djangos > 50
    assert idle == djangos


def test_the_first_recording_puts_the_recorded_methods_on_their_classes(
    first_recording: dict[str, Any],
) -> None:
    assert first_recording["recorded"] == 1
    assert first_recording["after_first"] == first_recording["recorded_methods"]
    assert "Signal.send" in first_recording["after_first"]
    assert "QuerySet.update" in first_recording["after_first"]


def test_later_recordings_change_no_class(first_recording: dict[str, Any]) -> None:
    """Each change of a class makes Python drop its attribute cache and specialised code, and
    from Python 3.13 a class changed 1,000 times is never cached again: switching the methods
    per recording slowed the whole ORM after about 500 requests."""
    assert first_recording["changes_after_fifty_more"] == first_recording["changes_after_first"]
    assert sum(first_recording["changes_after_first"]) == len(first_recording["recorded_methods"])
    assert first_recording["still_on"]


def test_weak_receivers_stay_weak_while_recording() -> None:
    signal = Signal()

    def make() -> Callable[..., Any]:
        def receiver(sender: Any, **kwargs: Any) -> str:
            return "ok"

        return receiver

    receiver = make()
    ref = weakref.ref(receiver)
    signal.connect(receiver)
    with record_signals() as recording:
        signal.send(sender=None)
        del receiver
        gc.collect()
        assert ref() is None
        assert signal.send(sender=None) == []
    assert len(recording.sends[0].calls) == 1


def test_recording_does_not_keep_the_sender_alive() -> None:
    signal = Signal()

    def receiver(sender: Any, **kwargs: Any) -> None:
        pass

    signal.connect(receiver, weak=False)

    class Sender:
        pass

    sender: Any = Sender()
    ref = weakref.ref(sender)
    with record_signals() as recording:
        signal.send(sender=sender)
        del sender
        gc.collect()
        assert ref() is None
    assert "Sender" in recording.sends[0].sender


def test_a_receiver_that_recurses_forever_still_gets_recursion_error() -> None:
    signal = Signal()

    def receiver(sender: Any, **kwargs: Any) -> None:
        signal.send(sender=sender)

    signal.connect(receiver)
    with pytest.raises(RecursionError), record_signals() as recording:
        signal.send(sender=None)
    assert recording.sends[0].calls[0].error is not None
    assert recording.sends[0].calls[0].error.startswith("RecursionError")
    # The context is clean again: a new send is a root send.
    with record_signals() as after:
        Signal().send(sender=None)
    assert after.sends[0].depth == 0


_seen: contextvars.ContextVar[str] = contextvars.ContextVar("seen", default="unset")


def test_context_changes_made_by_sync_receivers_reach_the_caller() -> None:
    signal = Signal()

    def receiver(sender: Any, **kwargs: Any) -> None:
        _seen.set("set by receiver")

    signal.connect(receiver)

    def run() -> str:
        with record_signals():
            signal.send(sender=None)
        return _seen.get()

    assert contextvars.copy_context().run(run) == "set by receiver"


@pytest.mark.parametrize("method", ["asend", "asend_robust"])
def test_context_changes_by_async_receivers_match_django(method: str) -> None:
    """Django 6.1 makes async receivers' context changes visible after asend(); Django 5.2 does
    not. Recording must give whatever the installed Django gives."""

    def outcome(record: bool) -> str:
        signal = Signal()

        async def receiver(sender: Any, **kwargs: Any) -> None:
            _seen.set("set by async receiver")

        signal.connect(receiver)

        async def main() -> str:
            if record:
                with record_signals():
                    await getattr(signal, method)(sender=None)
            else:
                await getattr(signal, method)(sender=None)
            return _seen.get()

        return contextvars.copy_context().run(asyncio.run, main())

    assert outcome(record=True) == outcome(record=False)


def test_a_patch_put_over_the_recorded_send_keeps_working_and_is_recorded_through() -> None:
    """A library that patches Signal.send after the recorded method is on wraps ours: its patch
    sees every send, and the sends it passes on are recorded."""
    seen = []
    with record_signals():
        pass  # the recorded methods are on from here
    ours = Signal.__dict__["send"]

    def other_patch(self: Signal, sender: Any, **named: Any) -> Any:
        seen.append(sender)
        return ours(self, sender, **named)

    Signal.send = other_patch  # type: ignore[method-assign]
    try:
        signal = Signal()
        with record_signals() as recording:
            signal.send(sender="while recording")
        signal.send(sender="after")
        assert Signal.__dict__["send"] is other_patch
        assert django_signals._is_djangos(django_signals._baseline["send"], "send")
    finally:
        Signal.send = ours  # type: ignore[method-assign]
    assert seen == ["while recording", "after"]
    assert [send.sender for send in recording.sends] == ["'while recording'"]


def test_a_send_nothing_records_calls_the_patch_the_recorded_method_replaced() -> None:
    """When the class had another library's patch (not Django's function) as the recorded method
    went on, a context that records nothing gets that patch, not Django's code inline."""
    seen = []

    def patch(self: Signal, sender: Any, **named: Any) -> Any:
        seen.append(sender)
        return "patched"

    send = django_signals._make_send(False, patch)
    with mock.patch.dict(django_signals._baseline, {"send": patch}):
        assert send(Signal(), "idle", number=1) == "patched"
        with record_signals() as recording:
            signal = Signal()
            signal.connect(lambda sender, **kwargs: "ok", weak=False)
            assert send(signal, "recorded") == [(signal.receivers[0][1], "ok")]
    assert seen == ["idle"]
    assert [send.sender for send in recording.sends] == ["'recorded'"]
