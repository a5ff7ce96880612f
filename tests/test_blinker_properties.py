"""Property-based: for any mix of blinker receivers, a recorded send behaves as blinker's own."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from unittest import mock

import blinker
from hypothesis import given, settings
from hypothesis import strategies as st

from signal_panel import record_signals
from tests.shapes import kwarg_names, receiver_kinds, receiver_of


class Stop(BaseException):
    """A BaseException that is not an Exception, as a receiver might raise."""


@dataclass(frozen=True)
class Plan:
    """One receiver: sync or async, returns or raises, how often it suspends, which sender."""

    is_async: bool
    raises: type[BaseException] | None
    value: int
    awaits: int
    sender: str | None  # None: connected for any sender


plans = st.builds(
    Plan,
    is_async=st.booleans(),
    raises=st.sampled_from([None, None, ValueError, KeyError, Stop]),
    value=st.integers(),
    awaits=st.integers(min_value=0, max_value=3),
    sender=st.sampled_from([None, None, "a", "b"]),
)


@dataclass
class Scenario:
    signal: blinker.Signal
    log: list[int]
    errors: list[BaseException]


def build(receiver_plans: list[Plan], muted: bool) -> Scenario:
    """A fresh signal with one receiver per plan; each receiver logs its index when called."""
    signal = blinker.Signal()
    log: list[int] = []
    errors: list[BaseException] = []
    for index, plan in enumerate(receiver_plans):
        error = plan.raises(f"receiver {index}") if plan.raises else None
        if error is not None:
            errors.append(error)
        receiver = make_receiver(index, plan, error, log)
        target = blinker.ANY if plan.sender is None else plan.sender
        signal.connect(receiver, sender=target, weak=False)
    signal.is_muted = muted
    return Scenario(signal, log, errors)


def make_receiver(
    index: int, plan: Plan, error: BaseException | None, log: list[int]
) -> Callable[..., Any]:
    if plan.is_async:

        async def async_receiver(sender: Any, **kwargs: Any) -> Any:
            log.append(index)
            for _ in range(plan.awaits):
                await asyncio.sleep(0)
            if error is not None:
                raise error
            return plan.value

        return async_receiver

    def receiver(sender: Any, **kwargs: Any) -> Any:
        log.append(index)
        if error is not None:
            raise error
        return plan.value

    return receiver


def outcome(scenario: Scenario, run: Callable[[], Any]) -> tuple[Any, ...]:
    """What the caller sees: the result, or the exception (the receiver's own object, or for
    blinker's own errors their type and message), and which receivers ran."""
    scenario.log.clear()
    try:
        result = run()
    except BaseException as error:
        seen: Any = (
            error if any(error is own for own in scenario.errors) else (type(error), str(error))
        )
        return ("raised", seen, list(scenario.log))
    return ("returned", result, list(scenario.log))


def run_to_completion(wrapped: Callable[..., Any]) -> Callable[..., Any]:
    """An ``_async_wrapper`` that runs the coroutine in its own event loop."""

    def call(*args: Any, **kwargs: Any) -> Any:
        return asyncio.run(wrapped(*args, **kwargs))

    return call


def in_a_coroutine(wrapped: Callable[..., Any]) -> Callable[..., Any]:
    """A ``_sync_wrapper`` that calls the receiver from a coroutine."""

    async def call(*args: Any, **kwargs: Any) -> Any:
        return wrapped(*args, **kwargs)

    return call


receiver_lists = st.lists(plans, max_size=6)
senders = st.sampled_from([None, "a", "b"])


@settings(max_examples=150, deadline=None)
@given(receiver_lists, senders, st.booleans(), st.booleans())
def test_send_behaves_as_blinkers(
    receiver_plans: list[Plan], sender: str | None, with_wrapper: bool, muted: bool
) -> None:
    scenario = build(receiver_plans, muted)
    wrapper = run_to_completion if with_wrapper else None

    def send() -> Any:
        return scenario.signal.send(sender, _async_wrapper=wrapper, number=1)

    vanilla = outcome(scenario, send)
    with record_signals():
        recorded = outcome(scenario, send)
    assert recorded == vanilla


@settings(max_examples=150, deadline=None)
@given(receiver_lists, senders, st.booleans(), st.booleans())
def test_send_async_behaves_as_blinkers(
    receiver_plans: list[Plan], sender: str | None, with_wrapper: bool, muted: bool
) -> None:
    scenario = build(receiver_plans, muted)
    wrapper = in_a_coroutine if with_wrapper else None

    async def send() -> Any:
        return await scenario.signal.send_async(sender, _sync_wrapper=wrapper, number=1)

    async def recorded_send() -> Any:
        with record_signals():
            return await send()

    vanilla = outcome(scenario, lambda: asyncio.run(send()))
    recorded = outcome(scenario, lambda: asyncio.run(recorded_send()))
    assert recorded == vanilla


@settings(max_examples=100, deadline=None)
@given(receiver_lists, senders)
def test_recording_holds_one_call_per_receiver_run_with_its_error(
    receiver_plans: list[Plan], sender: str | None
) -> None:
    scenario = build(receiver_plans, muted=False)
    with record_signals() as recording:
        result = outcome(
            scenario,
            lambda: scenario.signal.send(sender, _async_wrapper=run_to_completion),
        )
    ran = result[2]
    [send] = recording.sends
    expected = [
        None if receiver_plans[index].raises is None else f"{receiver_plans[index].raises.__name__}"
        for index in ran
    ]
    assert [call.error and call.error.split(":")[0] for call in send.calls] == expected


@settings(max_examples=100, deadline=None)
@given(names=kwarg_names, kinds=receiver_kinds)
def test_receivers_are_called_with_the_same_arguments(names: list[str], kinds: list[str]) -> None:
    """Any number of kwargs (the compiled path calls receivers one way up to 14 kwargs and another
    past that), to receivers of any shape: each gets what blinker gives it, and one that cannot
    take it fails with blinker's error."""
    values = {name: object() for name in names}
    seen: list[Any] = []
    signal = blinker.Signal()
    receivers = [receiver_of(kind, seen) for kind in kinds]
    for receiver in receivers:
        signal.connect(receiver, weak=False)

    def run() -> tuple[list[Any], list[Any], tuple[Any, ...]]:
        seen.clear()
        for receiver in receivers:
            if isinstance(receiver, mock.Mock):
                receiver.reset_mock()
        try:
            result: tuple[Any, ...] = ("returned", signal.send("sender", **values))
        except Exception as error:
            result = ("raised", type(error), str(error))
        mocks = [list(r.call_args_list) for r in receivers if isinstance(r, mock.Mock)]
        return list(seen), mocks, result

    vanilla = run()
    with record_signals() as recording:
        recorded = run()
    assert recorded == vanilla
    assert len(recording.sends) == 1
    # blinker passes the sender positionally, which two of the shapes cannot take: the send stops
    # at the first of them to run (blinker's order is not the order of connection).
    ran = len(recorded[0]) + sum(len(calls) for calls in recorded[1])
    failed = recorded[2][0] == "raised"
    assert failed == any(kind in ("named_only", "instance") for kind in kinds)
    assert len(recording.sends[0].calls) == ran + failed
