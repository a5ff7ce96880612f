"""Problems found in a recording: duplicates, recursion, slow receivers, errors."""

from __future__ import annotations

import functools
import gc
import importlib
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db.models.signals import post_save
from django.dispatch import Signal
from django.test import override_settings

from signal_panel import record_signals
from tests.testapp.models import Author
from tests.testapp.signals import duplicate_target

signal = Signal()


@pytest.fixture(autouse=True)
def _disconnect_all() -> Iterator[None]:
    yield
    for each in (signal, duplicate_target):
        each.receivers.clear()
        each.sender_receivers_cache.clear()


def kinds(recording: Any) -> list[str]:
    return [problem.kind for problem in recording.problems]


def test_a_module_imported_under_two_names_is_a_duplicate(tmp_path: Path) -> None:
    package = tmp_path / "dupapp"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "handlers.py").write_text(
        textwrap.dedent(
            """
            from tests.testapp.signals import duplicate_target

            def on_target(sender, **kwargs):
                return "handled"

            duplicate_target.connect(on_target)
            """
        )
    )
    sys.path[:0] = [str(tmp_path), str(package)]
    try:
        importlib.import_module("dupapp.handlers")
        importlib.import_module("handlers")  # the same file, under a second name
        with record_signals() as recording:
            responses = duplicate_target.send(sender=None)
    finally:
        sys.path.remove(str(tmp_path))
        sys.path.remove(str(package))
        sys.modules.pop("dupapp.handlers", None)
        sys.modules.pop("handlers", None)
    assert len(responses) == 2
    (problem,) = recording.problems
    assert problem.kind == "duplicate_receiver"
    assert len(problem.calls) == 2
    assert {call.receiver_name for call in problem.calls} == {
        "dupapp.handlers.on_target",
        "handlers.on_target",
    }
    # Both copies connected at the same line of the same file.
    assert len(problem.locations) == 1
    assert problem.locations[0].endswith("handlers.py:7")
    assert "tests.testapp.signals.duplicate_target" in problem.message
    assert "2 times" in problem.message
    assert problem.details["why"].startswith(
        "its module is imported under two names (dupapp.handlers, handlers)"
    )


def test_closures_connected_per_call_are_duplicates() -> None:
    def connect_in_view() -> None:
        def on_signal(sender: Any, **kwargs: Any) -> None:
            pass

        signal.connect(on_signal, weak=False)

    for _ in range(3):
        connect_in_view()
    with record_signals() as recording:
        signal.send(sender=None)
    (problem,) = [p for p in recording.problems if p.kind == "duplicate_receiver"]
    assert problem.details["per_send"] == 3
    assert len(problem.locations) == 1
    assert problem.locations[0].startswith("tests/test_problems.py:")
    assert problem.details["why"].startswith("it is a function made anew by each call")


def test_bound_methods_of_many_instances_are_duplicates() -> None:
    class Listener:
        def __init__(self) -> None:
            signal.connect(self.on_signal)

        def on_signal(self, sender: Any, **kwargs: Any) -> None:
            pass

    listeners = [Listener(), Listener()]
    with record_signals() as recording:
        signal.send(sender=None)
    assert len(listeners) == 2
    (problem,) = recording.problems
    assert problem.kind == "duplicate_receiver"
    assert problem.calls[0].receiver_name.endswith("Listener.on_signal")
    assert problem.details["why"].startswith("it is a bound method")


def test_one_function_with_and_without_dispatch_uid_is_a_duplicate() -> None:
    def on_signal(sender: Any, **kwargs: Any) -> None:
        pass

    signal.connect(on_signal)
    signal.connect(on_signal, dispatch_uid="on-signal")
    with record_signals() as recording:
        signal.send(sender=None)
    assert kinds(recording) == ["duplicate_receiver"]


def test_connecting_the_same_function_twice_is_not_a_duplicate() -> None:
    def on_signal(sender: Any, **kwargs: Any) -> None:
        pass

    signal.connect(on_signal)
    signal.connect(on_signal)  # Django ignores the second connect
    with record_signals() as recording:
        signal.send(sender=None)
    assert recording.problems == []


def test_different_functions_made_by_one_decorator_are_not_duplicates() -> None:
    def logged(func: Any) -> Any:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            return func(*args, **kwargs)

        return wrapper

    @logged
    def first(sender: Any, **kwargs: Any) -> None:
        pass

    @logged
    def second(sender: Any, **kwargs: Any) -> None:
        pass

    signal.connect(first)
    signal.connect(second)
    with record_signals() as recording:
        signal.send(sender=None)
    assert recording.problems == []
    names = [call.receiver_name.rsplit(".", 1)[-1] for call in recording.sends[0].calls]
    assert names == ["first", "second"]
    assert recording.sends[0].calls[1].location.startswith("tests/test_problems.py:")


def make_receiver() -> Any:
    """A new function on each call: one logical receiver, as a closure connected per request."""

    def on_signal(sender: Any, **kwargs: Any) -> None:
        pass

    return on_signal


def next_line() -> str:
    """``file:line`` of the caller's next line."""
    return f"tests/test_problems.py:{sys._getframe(1).f_lineno + 1}"


def test_a_duplicate_leaves_out_places_disconnected_before_the_send() -> None:
    earlier, first, second = make_receiver(), make_receiver(), make_receiver()
    signal.connect(earlier, weak=False)
    signal.disconnect(earlier)
    places = [next_line()]
    signal.connect(first, weak=False)
    places.append(next_line())
    signal.connect(second, weak=False)
    with record_signals() as recording:
        signal.send(sender=None)
    (problem,) = recording.problems
    assert problem.locations == places


def test_a_duplicate_leaves_out_places_of_collected_weak_receivers() -> None:
    signal.connect(make_receiver())  # weakly, and nothing else keeps it: collected at once
    gc.collect()
    first, second = make_receiver(), make_receiver()
    places = [next_line()]
    signal.connect(first, weak=False)
    places.append(next_line())
    signal.connect(second, weak=False)
    with record_signals() as recording:
        signal.send(sender=None)
    (problem,) = recording.problems
    assert problem.locations == places


def test_a_duplicate_leaves_out_places_of_receivers_removed_without_disconnect() -> None:
    signal.connect(make_receiver(), weak=False)
    signal.receivers.clear()  # as some tests do, without disconnect()
    signal.sender_receivers_cache.clear()
    first, second = make_receiver(), make_receiver()
    places = [next_line()]
    signal.connect(first, weak=False)
    places.append(next_line())
    signal.connect(second, weak=False)
    with record_signals() as recording:
        signal.send(sender=None)
    (problem,) = recording.problems
    assert problem.locations == places


def test_a_duplicate_keeps_places_disconnected_after_the_send() -> None:
    first, second = make_receiver(), make_receiver()
    places = [next_line()]
    signal.connect(first, weak=False)
    places.append(next_line())
    signal.connect(second, weak=False)
    with record_signals() as recording:
        signal.send(sender=None)
    signal.disconnect(first)
    signal.disconnect(second)
    (problem,) = recording.problems
    assert problem.locations == places


@pytest.mark.django_db
def test_a_post_save_receiver_that_saves_again_is_one_recursion_problem() -> None:
    def rename(sender: Any, instance: Author, **kwargs: Any) -> None:
        if len(instance.name) < 6:
            instance.name += "!"
            instance.save()

    post_save.connect(rename, sender=Author)
    try:
        with record_signals() as recording:
            Author.objects.create(name="Ada")
    finally:
        post_save.disconnect(rename, sender=Author)
    recursion = [p for p in recording.problems if p.kind == "recursion"]
    assert len(recursion) == 1
    assert recursion[0].details["depth"] == 4
    assert recursion[0].calls[0].send.depth == 0
    assert "re-entered itself" in recursion[0].message
    assert "4 levels deep" in recursion[0].message


def test_two_separate_chains_are_two_recursion_problems() -> None:
    def again(sender: Any, depth: int = 0, **kwargs: Any) -> None:
        if depth < 2:
            signal.send(sender=None, depth=depth + 1)

    signal.connect(again)
    with record_signals() as recording:
        signal.send(sender=None)
        signal.send(sender=None)
    recursion = [p for p in recording.problems if p.kind == "recursion"]
    assert [p.details["depth"] for p in recursion] == [3, 3]


@override_settings(SIGNAL_PANEL={"SLOW_RECEIVER_MS": 5})
def test_a_slow_receiver_is_reported_with_its_time() -> None:
    def slow(sender: Any, **kwargs: Any) -> None:
        time.sleep(0.02)

    def fast(sender: Any, **kwargs: Any) -> None:
        pass

    signal.connect(slow)
    signal.connect(fast)
    with record_signals() as recording:
        signal.send(sender=None)
    (problem,) = recording.problems
    assert problem.kind == "slow_receiver"
    assert problem.calls[0].receiver_name.endswith(".slow")
    assert problem.details["max_ns"] >= 20_000_000
    assert "threshold 5.0 ms" in problem.message


@override_settings(SIGNAL_PANEL={"SLOW_RECEIVER_MS": 5})
def test_a_receiver_is_not_slow_because_of_the_receivers_it_triggers() -> None:
    inner = Signal()

    def slow(sender: Any, **kwargs: Any) -> None:
        time.sleep(0.02)

    def triggers(sender: Any, **kwargs: Any) -> None:
        inner.send(sender=None)

    inner.connect(slow)
    signal.connect(triggers)
    with record_signals() as recording:
        signal.send(sender=None)
    slow_problems = [p for p in recording.problems if p.kind == "slow_receiver"]
    assert [p.calls[0].receiver_name.rsplit(".", 1)[-1] for p in slow_problems] == ["slow"]


def test_an_error_swallowed_by_send_robust_is_reported() -> None:
    def broken(sender: Any, **kwargs: Any) -> None:
        raise KeyError("missing")

    signal.connect(broken)
    with record_signals() as recording:
        responses = signal.send_robust(sender=None)
    assert isinstance(responses[0][1], KeyError)
    (problem,) = recording.problems
    assert problem.kind == "swallowed_error"
    assert problem.calls[0].error == "KeyError: 'missing'"
    assert problem.calls[0].swallowed
    assert "send_robust() swallowed KeyError" in problem.message


def test_an_error_raised_through_send_is_reported() -> None:
    def broken(sender: Any, **kwargs: Any) -> None:
        raise ValueError("bad value")

    signal.connect(broken)
    with pytest.raises(ValueError, match="bad value"), record_signals() as recording:
        signal.send(sender=None)
    (problem,) = recording.problems
    assert problem.kind == "raised_error"
    assert not problem.calls[0].swallowed
    assert problem.message.endswith("raised ValueError: bad value")


def test_problems_are_ordered_worst_first() -> None:
    def broken(sender: Any, **kwargs: Any) -> None:
        raise ValueError("bad")

    def twice(sender: Any, **kwargs: Any) -> None:
        pass

    signal.connect(twice, weak=False)
    signal.connect(functools.partial(twice), weak=False)
    signal.connect(broken)
    with record_signals() as recording:
        signal.send_robust(sender=None)
        with pytest.raises(ValueError, match="bad"):
            signal.send(sender=None)
    assert kinds(recording) == ["raised_error", "swallowed_error"]


def test_a_connect_made_while_a_module_is_imported_is_start_up_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "late_receivers.py").write_text(
        textwrap.dedent(
            """
            from tests.test_problems import signal

            def late(sender, **kwargs):
                pass

            signal.connect(late)
            """
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        with record_signals() as recording:
            importlib.import_module("late_receivers")
            signal.send(sender=None)
    finally:
        sys.modules.pop("late_receivers", None)
    (event,) = recording.connections
    assert event.at_start_up
    assert event.callsite.startswith("late_receivers.py:7 in")
    assert [p.kind for p in recording.problems if p.kind == "connect_during_request"] == []


def test_a_connect_made_in_a_view_is_still_reported() -> None:
    def view_receiver(sender: Any, **kwargs: Any) -> None:
        pass

    with record_signals() as recording:
        signal.connect(view_receiver)
    (problem,) = [p for p in recording.problems if p.kind == "connect_during_request"]
    assert problem.details["callsite"].startswith("tests/test_problems.py:")


def test_a_duplicate_made_by_connect_in_a_view_says_so() -> None:
    def view() -> None:
        def on_signal(sender: Any, **kwargs: Any) -> None:
            pass

        signal.connect(on_signal, weak=False)

    with record_signals() as recording:
        view()
        view()
        signal.send(sender=None)
    (problem,) = [p for p in recording.problems if p.kind == "duplicate_receiver"]
    assert problem.details["why"].startswith("connect() ran while the program served")


# -- ignored_return ------------------------------------------------------------------------------


def refuse_to_save(sender: Any, instance: Any, **kwargs: Any) -> bool:
    return False


def count_the_save(sender: Any, instance: Any, **kwargs: Any) -> int:
    return 1


@pytest.mark.django_db
def test_returning_false_from_pre_save_does_not_stop_the_save_and_is_reported() -> None:
    from django.db.models.signals import pre_save

    pre_save.connect(refuse_to_save, sender=Author, weak=False)
    try:
        with record_signals() as recording:
            Author.objects.create(name="saved anyway")
            Author.objects.create(name="again")
    finally:
        pre_save.disconnect(refuse_to_save, sender=Author)
    assert Author.objects.filter(name="saved anyway").exists()
    [problem] = [p for p in recording.problems if p.kind == "ignored_return"]
    assert problem.message == (
        "tests.test_problems.refuse_to_save returned False from pre_save for testapp.Author "
        "(2 times), and Django ignores what model signal receivers return: the save went ahead. "
        "To stop it, raise an exception"
    )
    assert len(problem.calls) == 2
    assert problem.details == {
        "signal": "pre_save",
        "returned": "False",
        "sender": "testapp.Author",
    }
    assert problem.locations == [problem.calls[0].location]


@pytest.mark.django_db
def test_any_value_returned_from_a_pre_signal_is_reported_but_not_from_a_post_signal() -> None:
    from django.db.models.signals import pre_delete

    pre_delete.connect(count_the_save, sender=Author, weak=False)
    post_save.connect(count_the_save, sender=Author, weak=False)
    try:
        with record_signals() as recording:
            Author.objects.create(name="x").delete()
    finally:
        pre_delete.disconnect(count_the_save, sender=Author)
        post_save.disconnect(count_the_save, sender=Author)
    problems = [p for p in recording.problems if p.kind == "ignored_return"]
    assert [(p.details["signal"], p.details["returned"]) for p in problems] == [("pre_delete", "1")]
    assert "the delete went ahead" in problems[0].message


@pytest.mark.django_db
def test_false_from_a_post_signal_is_reported() -> None:
    post_save.connect(refuse_to_save, sender=Author, weak=False)
    try:
        with record_signals() as recording:
            Author.objects.create(name="x")
    finally:
        post_save.disconnect(refuse_to_save, sender=Author)
    [problem] = [p for p in recording.problems if p.kind == "ignored_return"]
    assert problem.details["signal"] == "post_save"


def test_what_a_custom_signals_receiver_returns_is_its_senders_business() -> None:
    def answer(sender: Any, **kwargs: Any) -> bool:
        return False

    signal.connect(answer, weak=False)
    with record_signals() as recording:
        assert signal.send(sender=None) == [(answer, False)]
    assert recording.calls[0].returned == "False"
    assert "ignored_return" not in kinds(recording)
