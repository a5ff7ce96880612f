"""vanishing_receiver, dead receivers in the registry, and connect_during_request."""

from __future__ import annotations

import functools
import gc
import sys
import weakref
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.db.models.signals import post_save
from django.dispatch import Signal

from signal_panel import record_signals, registry
from signal_panel.diagnostics import kept_alive_only_by_debug
from signal_panel.stats import registry_stats
from tests.testapp.models import Book, Tag

pytestmark = pytest.mark.django_db

HERE = "tests/test_diagnostics_receivers.py"


def line() -> str:
    """``file:line`` of the caller's next line."""
    return f"{HERE}:{sys._getframe(1).f_lineno + 1}"


def module_level_receiver(sender: Any, **kwargs: Any) -> None:
    pass


class Handler:
    def __init__(self, calls: list[str]) -> None:
        self.calls = calls

    def __call__(self, sender: Any, **kwargs: Any) -> None:
        self.calls.append("instance")

    def on_save(self, sender: Any, **kwargs: Any) -> None:
        self.calls.append("method")


@pytest.fixture
def signal() -> Iterator[Signal]:
    """A signal of the test's own, so leftovers never reach other tests' signals."""
    sig = Signal()
    yield sig
    sig.receivers.clear()
    sig.sender_receivers_cache.clear()


@pytest.fixture
def debug(settings: Any) -> None:
    settings.DEBUG = True


calls: list[str] = []


def connect_a_local_function(signal: Signal, sender: Any = None) -> str:
    """Connect a closure weakly, as code in ready() or a view would; return where it happened."""
    tag = "closure"

    def on_event(sender: Any, **kwargs: Any) -> None:
        calls.append(tag)

    where = line()
    signal.connect(on_event, sender=sender)
    return where


def vanishing(recording: Any) -> list[Any]:
    return [p for p in recording.problems if p.kind == "vanishing_receiver"]


# -- vanishing_receiver ------------------------------------------------------------------------


@pytest.mark.usefixtures("debug")
def test_a_local_function_kept_only_by_debug_is_a_problem(signal: Signal) -> None:
    where = connect_a_local_function(signal)
    with record_signals() as recording:
        signal.send(sender=None)
    [problem] = vanishing(recording)
    assert problem.details["receiver"].endswith("connect_a_local_function.<locals>.on_event")
    assert problem.details["connected_at"] == where
    assert problem.locations[0] == where
    assert "garbage-collected" in problem.message
    assert [call.receiver_name for call in problem.calls] == [problem.details["receiver"]]


def test_without_debug_the_same_receiver_is_gone_and_never_runs(signal: Signal) -> None:
    calls.clear()
    connect_a_local_function(signal)
    gc.collect()
    signal.send(sender=None)
    assert calls == []


@pytest.mark.usefixtures("debug")
def test_with_debug_the_same_receiver_runs(signal: Signal) -> None:
    calls.clear()
    connect_a_local_function(signal)
    gc.collect()
    signal.send(sender=None)
    assert calls == ["closure"]


@pytest.mark.usefixtures("debug")
def test_it_is_not_reported_when_its_signal_was_not_sent(signal: Signal) -> None:
    connect_a_local_function(signal)
    with record_signals() as recording:
        pass
    assert vanishing(recording) == []


@pytest.mark.usefixtures("debug")
def test_it_is_not_reported_when_its_signal_was_sent_for_another_sender(signal: Signal) -> None:
    connect_a_local_function(signal, sender=Book)
    with record_signals() as recording:
        signal.send(sender=Tag)
    assert vanishing(recording) == []


@pytest.mark.usefixtures("debug")
def test_it_is_reported_when_connected_while_recording(signal: Signal) -> None:
    with record_signals() as recording:
        where = connect_a_local_function(signal)
    [problem] = vanishing(recording)
    assert problem.locations[0] == where
    assert problem.calls == []


@pytest.mark.usefixtures("debug")
def test_it_ranks_below_the_problems_of_the_request(signal: Signal) -> None:
    with record_signals() as recording:
        connect_a_local_function(signal)
    kinds = [p.kind for p in recording.problems]
    assert kinds == ["connect_during_request", "vanishing_receiver"]


@pytest.mark.usefixtures("debug")
def test_on_a_model_signal_it_is_reported_with_the_signal_name() -> None:
    connect_a_local_function(post_save, sender=Book)
    try:
        with record_signals() as recording:
            Book.objects.create(title="a")
        [problem] = vanishing(recording)
        assert problem.details["signal"] == "django.db.models.signals.post_save"
        assert len(problem.calls) == 1
    finally:
        for entry in list(post_save.receivers):
            receiver = entry[1]()
            if getattr(receiver, "__name__", "") == "on_event":
                post_save.disconnect(receiver, sender=Book)


@pytest.mark.usefixtures("debug")
@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda: lambda sender, **kwargs: None, id="lambda"),
        pytest.param(lambda: functools.partial(module_level_receiver), id="partial"),
        pytest.param(lambda: Handler([]), id="callable-instance"),
    ],
)
def test_other_receivers_created_inline_are_problems_too(
    signal: Signal, make: Callable[[], Any]
) -> None:
    signal.connect(make())
    with record_signals() as recording:
        signal.send(sender=None)
    assert len(vanishing(recording)) == 1


@pytest.mark.usefixtures("debug")
def test_a_local_function_the_program_keeps_is_no_problem(signal: Signal) -> None:
    kept: list[Any] = []

    def on_event(sender: Any, **kwargs: Any) -> None:
        pass

    kept.append(on_event)
    signal.connect(on_event)
    del on_event
    with record_signals() as recording:
        signal.send(sender=None)
    assert vanishing(recording) == []


@pytest.mark.usefixtures("debug")
def test_a_local_function_connected_strongly_is_no_problem(signal: Signal) -> None:
    def connect() -> None:
        def on_event(sender: Any, **kwargs: Any) -> None:
            pass

        signal.connect(on_event, weak=False)

    connect()
    with record_signals() as recording:
        signal.send(sender=None)
    assert vanishing(recording) == []


@pytest.mark.usefixtures("debug")
def test_a_module_level_function_is_no_problem(signal: Signal) -> None:
    signal.connect(module_level_receiver)
    with record_signals() as recording:
        signal.send(sender=None)
    assert vanishing(recording) == []


@pytest.mark.usefixtures("debug")
def test_a_bound_method_lives_as_long_as_its_instance_either_way(signal: Signal) -> None:
    handler = Handler([])
    signal.connect(handler.on_save)
    with record_signals() as recording:
        signal.send(sender=None)
    assert vanishing(recording) == []
    assert handler.calls == ["method"]


@pytest.mark.usefixtures("debug")
def test_the_check_reads_django_receiver_references(signal: Signal) -> None:
    connect_a_local_function(signal)
    [entry] = signal.receivers
    assert kept_alive_only_by_debug(entry[1]) is True
    assert kept_alive_only_by_debug(weakref.ref(module_level_receiver)) is False
    assert kept_alive_only_by_debug(object()) is False


# -- dead receivers ----------------------------------------------------------------------------


def django_rows(signal: Signal) -> list[dict[str, Any]]:
    [library] = [lib for lib in registry.libraries() if lib.name == "django"]
    return library.list_receivers(signal)


def test_a_collected_weak_receiver_shows_as_dead_in_the_registry(signal: Signal) -> None:
    where = connect_a_local_function(signal)  # DEBUG is False: nothing keeps it alive
    gc.collect()
    [row] = django_rows(signal)
    assert row["dead"] is True
    assert row["weak"] is True
    assert row["receiver"].endswith("connect_a_local_function.<locals>.on_event")
    assert row["connected_at"] == where


def test_a_live_receiver_is_not_dead(signal: Signal) -> None:
    signal.connect(module_level_receiver)
    [row] = django_rows(signal)
    assert row["dead"] is False


def registry_rows(signal: Signal) -> list[dict[str, Any]]:
    name = registry.signal_name(signal)
    [listed] = [s for s in registry_stats()["signals"] if s["name"] == name]
    return list(listed["receivers"])


@pytest.mark.usefixtures("debug")
def test_the_registry_marks_a_receiver_only_debug_keeps_alive(signal: Signal) -> None:
    signal.connect(functools.partial(module_level_receiver))
    [row] = registry_rows(signal)
    assert row["local_weak"] is True


@pytest.mark.usefixtures("debug")
def test_the_registry_leaves_a_local_function_the_program_keeps_unmarked(signal: Signal) -> None:
    def on_event(sender: Any, **kwargs: Any) -> None:
        pass

    signal.connect(on_event)
    [row] = registry_rows(signal)
    assert row["local_weak"] is False


# -- connect_during_request --------------------------------------------------------------------


def connects(recording: Any) -> list[Any]:
    return [p for p in recording.problems if p.kind == "connect_during_request"]


def test_connect_while_recording_is_a_problem_with_its_call_site() -> None:
    try:
        with record_signals() as recording:
            where = line()
            post_save.connect(module_level_receiver, sender=Book)
    finally:
        post_save.disconnect(module_level_receiver, sender=Book)
    [problem] = connects(recording)
    assert problem.locations[0].startswith(where)
    assert "connect() of tests.test_diagnostics_receivers.module_level_receiver" in problem.message
    assert "django.db.models.signals.post_save" in problem.message


def test_disconnect_while_recording_is_a_problem_too() -> None:
    post_save.connect(module_level_receiver, sender=Book)
    try:
        with record_signals() as recording:
            where = line()
            post_save.disconnect(module_level_receiver, sender=Book)
    finally:
        post_save.disconnect(module_level_receiver, sender=Book)
    [problem] = connects(recording)
    assert problem.message.startswith("disconnect() of")
    assert problem.locations[0].startswith(where)


def test_connect_before_recording_is_no_problem() -> None:
    post_save.connect(module_level_receiver, sender=Book)
    try:
        with record_signals() as recording:
            Book.objects.create(title="a")
    finally:
        post_save.disconnect(module_level_receiver, sender=Book)
    assert connects(recording) == []


def test_the_same_connect_run_again_is_one_problem_with_a_count(signal: Signal) -> None:
    with record_signals() as recording:
        for _ in range(3):
            where = connect_a_local_function(signal)
    [problem] = connects(recording)
    assert problem.details["count"] == 3
    assert problem.locations[0].startswith(where)
    assert "while recording (3 times)" in problem.message


def test_connects_from_different_places_are_different_problems(signal: Signal) -> None:
    with record_signals() as recording:
        first = connect_a_local_function(signal)
        second = line()
        signal.connect(module_level_receiver)
    problems = connects(recording)
    assert [problem.details["count"] for problem in problems] == [1, 1]
    assert [problem.locations[0].split(" in ")[0] for problem in problems] == [first, second]
    assert [problem.message.endswith("at start-up") for problem in problems] == [True, True]
