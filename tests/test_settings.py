"""The SIGNAL_PANEL settings: validation, system check, fall-back at request time."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import checks
from django.dispatch import Signal
from django.test import override_settings

from signal_panel import record_signals
from signal_panel.conf import DEFAULTS, get_config, validate


def test_defaults_are_valid() -> None:
    assert validate(DEFAULTS) == []


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ([], "SIGNAL_PANEL must be a dict, not list."),
        ({"SLOW_MS": 3}, "SIGNAL_PANEL has an unknown key 'SLOW_MS'; known keys: "),
        ({"MAX_CALLS": "many"}, "SIGNAL_PANEL['MAX_CALLS'] must be int, not str ('many')."),
        ({"MAX_CALLS": True}, "SIGNAL_PANEL['MAX_CALLS'] must be int, not bool (True)."),
        ({"MAX_CALLS": 0}, "SIGNAL_PANEL['MAX_CALLS'] must be at least 1, not 0."),
        ({"SLOW_RECEIVER_MS": -1}, "SIGNAL_PANEL['SLOW_RECEIVER_MS'] must be a finite number"),
        (
            {"SLOW_RECEIVER_MS": float("inf")},
            "SIGNAL_PANEL['SLOW_RECEIVER_MS'] must be a finite number",
        ),
        (
            {"SLOW_RECEIVER_MS": float("nan")},
            "SIGNAL_PANEL['SLOW_RECEIVER_MS'] must be a finite number",
        ),
        ({"SECRET_PATTERN": "("}, "SIGNAL_PANEL['SECRET_PATTERN'] is not a valid regex"),
        ({"IGNORE_SIGNALS": [1]}, "SIGNAL_PANEL['IGNORE_SIGNALS'] must list dotted signal names"),
        ({"CAPTURE_CALLSITE": "yes"}, "SIGNAL_PANEL['CAPTURE_CALLSITE'] must be bool, not str"),
    ],
)
def test_invalid_values_get_a_clear_message(value: Any, message: str) -> None:
    (error,) = validate(value)
    assert error.startswith(message)


@override_settings(SIGNAL_PANEL={"MAX_CALL": 5, "SLOW_RECEIVER_MS": "fast"})
def test_the_system_check_reports_each_mistake() -> None:
    errors = [e for e in checks.run_checks() if e.id == "signal_panel.E001"]
    assert [e.msg.split(";")[0].split(" must")[0] for e in errors] == [
        "SIGNAL_PANEL has an unknown key 'MAX_CALL'",
        "SIGNAL_PANEL['SLOW_RECEIVER_MS']",
    ]
    assert all(isinstance(e, checks.Error) for e in errors)


@override_settings(SIGNAL_PANEL={"MAX_CALLS": "lots", "SLOW_RECEIVER_MS": 1})
def test_an_invalid_value_falls_back_to_its_default_at_request_time() -> None:
    config = get_config()
    assert config.max_calls == DEFAULTS["MAX_CALLS"]
    assert config.slow_receiver_ns == 1_000_000


@override_settings(SIGNAL_PANEL={"MAX_CALLS": 10})
def test_past_max_calls_calls_are_counted_not_stored() -> None:
    signal = Signal()
    results = []

    def receiver(sender: Any, **kwargs: Any) -> int:
        results.append(sender)
        return sender

    signal.connect(receiver)
    with record_signals() as recording:
        responses = [signal.send(sender=n) for n in range(25)]
    assert [r[0][1] for r in responses] == list(range(25))
    assert len(results) == 25
    assert recording.call_count == 25
    assert sum(len(send.calls) for send in recording.sends) == 10
    assert recording.truncated
    assert recording.dropped_calls == 15
    assert recording.dropped_sends == 15


def test_memory_stays_bounded_with_nested_recordings() -> None:
    signal = Signal()

    def receiver(sender: Any, **kwargs: Any) -> None:
        pass

    signal.connect(receiver)
    with (
        override_settings(SIGNAL_PANEL={"MAX_CALLS": 3}),
        record_signals() as small,
        override_settings(SIGNAL_PANEL={"MAX_CALLS": 100}),
        record_signals() as large,
    ):
        for n in range(10):
            signal.send(sender=n)
    assert sum(len(s.calls) for s in small.sends) == 3
    assert sum(len(s.calls) for s in large.sends) == 10
    assert small.truncated
    assert not large.truncated


@override_settings(SIGNAL_PANEL={"IGNORE_SIGNALS": ["tests.testapp.signals.book_published"]})
def test_ignored_signals_are_not_recorded() -> None:
    from tests.testapp.signals import book_published, duplicate_target

    with record_signals() as recording:
        book_published.send(sender=None)
        duplicate_target.send(sender=None)
    assert [s.signal_name for s in recording.sends] == ["tests.testapp.signals.duplicate_target"]


@override_settings(SIGNAL_PANEL={"CAPTURE_CALLSITE": False})
def test_callsite_capture_can_be_turned_off() -> None:
    with record_signals() as recording:
        Signal().send(sender=None)
    assert recording.sends[0].callsite == ""


def _receiver_for_ignoring(sender: Any, **kwargs: Any) -> None:
    pass


@override_settings(SIGNAL_PANEL={"IGNORE_RECEIVERS": ["tests.test_settings._receiver_for_*"]})
def test_receivers_named_in_ignore_receivers_are_counted_not_recorded() -> None:
    from signal_panel.stats import panel_stats

    signal = Signal()
    signal.connect(_receiver_for_ignoring)
    signal.connect(noop_receiver)
    with record_signals() as recording:
        responses = signal.send(sender=None)
    assert [receiver for receiver, _ in responses] == [_receiver_for_ignoring, noop_receiver]
    assert [call.receiver_name for call in recording.calls] == ["tests.test_settings.noop_receiver"]
    assert recording.ignored_calls == 1
    assert "1 call of receivers in IGNORE_RECEIVERS is left out." in render_panel(
        panel_stats(recording)
    )


def noop_receiver(sender: Any, **kwargs: Any) -> None:
    pass


def render_panel(stats: dict[str, Any]) -> str:
    from signal_panel.panels import render_content

    return render_content(stats)


@pytest.mark.parametrize(
    ("ignore", "left"),
    [
        (["raised_error"], []),
        (["raised_error:tests.test_settings.fails_*"], []),
        (["raised_error:other.*"], ["raised_error"]),
        (["slow_receiver"], ["raised_error"]),
    ],
)
def test_ignore_problems_by_kind_and_receiver(ignore: list[str], left: list[str]) -> None:
    signal = Signal()
    signal.connect(fails_loudly)
    with (
        override_settings(SIGNAL_PANEL={"IGNORE_PROBLEMS": ignore}),
        record_signals() as rec,
        pytest.raises(ValueError, match="loud"),
    ):
        signal.send(sender=None)
    assert [problem.kind for problem in rec.problems] == left


def fails_loudly(sender: Any, **kwargs: Any) -> None:
    raise ValueError("loud")


def test_ignore_problems_must_name_kinds_of_problem() -> None:
    from signal_panel.conf import validate

    (error,) = validate({"IGNORE_PROBLEMS": ["slow"]})
    assert "'slow', which is no kind of problem" in error
