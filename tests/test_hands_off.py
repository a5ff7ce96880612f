"""The recorder changes nothing the program can see: it runs none of the program's code while a
send runs, keeps none of its objects alive, and records what the program survived.

Each test reproduces a way an earlier recorder broke that promise."""

from __future__ import annotations

import asyncio
import functools
import gc
import logging
import sys
import threading
import tracemalloc
import weakref
from collections.abc import Iterator
from typing import Any
from unittest import mock

import pytest
from asgiref.sync import markcoroutinefunction, sync_to_async
from django.core.management import call_command
from django.db import connection
from django.db.models.signals import pre_save
from django.dispatch import Signal
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils.functional import SimpleLazyObject

from signal_panel import install, naming, record_signals, registry
from signal_panel.checks import check_settings
from signal_panel.stats import panel_stats
from signal_panel.tracking.django import methods
from signal_panel.tracking.rows import QUIET_RUNS
from tests.testapp.models import Author, Tag

signal = Signal()


@pytest.fixture(autouse=True)
def _disconnect_all() -> Iterator[None]:
    yield
    signal.receivers.clear()
    signal.sender_receivers_cache.clear()


def noop(sender: Any, **kwargs: Any) -> None:
    pass


# -- no code of the program runs while a send runs --------------------------------------------


@pytest.mark.parametrize("receivers", [0, 1])
def test_a_lazy_kwarg_is_not_evaluated(receivers: int) -> None:
    evaluated = []
    lazy = SimpleLazyObject(lambda: evaluated.append(True) or "user")
    if receivers:
        signal.connect(noop)
    with record_signals() as recording:
        signal.send(sender=None, user=lazy)
    recording.format_tree(color=False)
    panel_stats(recording)
    assert evaluated == []
    assert recording.sends[0].kwargs["user"] == "<django.utils.functional.SimpleLazyObject object>"


class Queries:
    """An item whose repr runs a query (a model's __str__ often does)."""

    def __repr__(self) -> str:
        Author.objects.count()
        return "queried"


@pytest.mark.django_db
def test_items_of_a_long_list_kwarg_are_not_asked_for_their_repr() -> None:
    signal.connect(noop)
    with CaptureQueriesContext(connection) as queries, record_signals() as recording:
        signal.send(sender=None, items=[Queries() for _ in range(40)])
        recording.format_tree(color=False)
        panel_stats(recording)
        shown = recording.sends[0].kwargs["items"]
    assert len(queries) == 0
    assert shown.startswith("[<tests.test_hands_off.Queries object>, <tests.test_hands_off")


class Hostile:
    """An object every dunder of which raises: __class__, __hash__, __eq__, __repr__, __len__."""

    @property  # type: ignore[misc]
    def __class__(self) -> type:  # type: ignore[override]
        raise RuntimeError("__class__ was read")

    def __hash__(self) -> int:
        raise RuntimeError("__hash__ was called")

    def __eq__(self, other: object) -> bool:
        raise RuntimeError("__eq__ was called")

    def __repr__(self) -> str:
        raise RuntimeError("__repr__ was called")


@pytest.mark.parametrize("receivers", [0, 1])
def test_a_hostile_sender_and_kwarg_are_only_looked_at_by_type(receivers: int) -> None:
    hostile = Hostile()
    if receivers:
        signal.connect(noop, weak=False)
    with record_signals() as recording:
        if receivers:
            # Django hashes the sender here itself (sender_receivers_cache.get): so does vanilla.
            with pytest.raises(RuntimeError, match="__hash__"):
                signal.send(sender=hostile, value=hostile)
            signal.send(sender=None, value=hostile)
        else:
            # No receivers: Django never hashes the sender, so the recorder must not either.
            assert signal.send(sender=hostile, value=hostile) == []
    send = recording.sends[-1]
    assert send.kwargs == {"value": "<tests.test_hands_off.Hostile object>"}


# -- nothing of the program is kept alive -----------------------------------------------------


def test_a_weak_receiver_passed_as_a_kwarg_dies_while_recording() -> None:
    def receiver(sender: Any, **kwargs: Any) -> None:
        pass

    signal.connect(noop)
    alive = weakref.ref(receiver)
    with record_signals() as recording:
        signal.send(sender=None, receiver=receiver)
        del receiver
        gc.collect()
        assert alive() is None
    assert recording.sends[0].kwargs["receiver"].endswith("<locals>.receiver")


def test_classes_made_per_request_are_not_kept_after_the_recording() -> None:
    def request() -> weakref.ref[type]:
        request_object = object()

        class PerRequest:
            held = request_object

            def __call__(self, sender: Any, **kwargs: Any) -> None:
                pass

        handler = PerRequest()
        signal.connect(handler)
        signal.send(sender=PerRequest, instance=handler, request=request_object)
        signal.disconnect(handler)
        return weakref.ref(PerRequest)

    with record_signals() as recording:
        made = request()
    gc.collect()
    assert made() is None
    assert recording.sends[0].sender.endswith("<locals>.PerRequest")
    assert recording.sends[0].calls[0].receiver_name.endswith("PerRequest.__call__")


@pytest.mark.django_db
def test_a_streamed_queryset_is_stored_as_two_folded_sends() -> None:
    Tag.objects.bulk_create([Tag(name=f"t{n}") for n in range(3000)])
    tracemalloc.start()
    try:
        with record_signals() as recording:
            before = tracemalloc.get_traced_memory()[0]
            for _tag in Tag.objects.iterator(chunk_size=500):
                pass
            kept = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert [(send.signal_name, send.count) for send in recording.sends] == [
        ("django.db.models.signals.pre_init", 3000),
        ("django.db.models.signals.post_init", 3000),
    ]
    assert recording.send_count == 6000
    assert kept < 200_000  # the rows are not kept: a few kB of query state at most


@pytest.mark.django_db
def test_alike_sends_without_receivers_fold_across_the_sends_that_reach_receivers() -> None:
    def numbered(sender: Any, instance: Tag, **kwargs: Any) -> None:
        Author.objects.exists()  # a query, and no instance: nothing sent under the call

    pre_save.connect(numbered, sender=Tag)
    try:
        with record_signals() as recording:
            for number in range(3):
                Tag.objects.create(name=f"t{number}")
            list(Tag.objects.all())
    finally:
        pre_save.disconnect(numbered, sender=Tag)
    # Each create() sends pre_init, post_init and post_save (no receivers) around its pre_save
    # (one): the three of each are one row at the first one's place, and the rows read later
    # join them.
    assert [(send.signal_name.rsplit(".", 1)[1], send.count) for send in recording.sends] == [
        ("pre_init", 6),
        ("post_init", 6),
        ("pre_save", 1),
        ("post_save", 3),
        ("pre_save", 1),
        ("pre_save", 1),
    ]
    assert recording.send_count == 18


def test_the_quiet_runs_a_recording_keeps_open_are_bounded() -> None:
    outer, inner = Signal(), Signal()

    def sends_inside(sender: Any, **kwargs: Any) -> None:
        inner.send(sender=None)  # no receivers: a run of its own, under this very call

    outer.connect(sends_inside)
    sends = QUIET_RUNS + 200
    with record_signals() as recording:
        for _ in range(sends):
            outer.send(sender=None)
        kept_open = len(recording.quiet_runs)
    outer.disconnect(sends_inside)
    assert kept_open <= QUIET_RUNS
    assert [send.count for send in recording.sends if send.quiet] == [1] * sends
    assert recording.send_count == 2 * sends


def test_a_receiver_connected_per_request_keeps_its_live_connection_and_the_latest_places() -> None:
    signal = Signal()

    class Panel:
        def on(self, sender: Any, **kwargs: Any) -> None:
            pass

    kept = Panel()
    signal.connect(kept.on)  # stays connected throughout
    for _ in range(registry._PLACES_LIMIT + 50):  # a new instance's method per "request"
        each = Panel()
        signal.connect(each.on)
        signal.disconnect(each.on)
    places = registry.connections_of(signal, naming.receiver_info(kept.on))
    ended = [place.disconnected_ns is not None for place in places]
    signal.disconnect(kept.on)
    # The oldest ended connections made room; the live one stayed, however old.
    assert ended == [False] + [True] * (registry._PLACES_LIMIT - 1)


# -- Django's own calls are Django's ----------------------------------------------------------


@pytest.mark.parametrize("recording", [False, True])
def test_a_strong_connect_calls_no_weakref_ref(recording: bool) -> None:
    install()

    def receiver(sender: Any, **kwargs: Any) -> None:
        pass

    with mock.patch("weakref.ref") as ref:
        if recording:
            with record_signals():
                signal.connect(receiver, weak=False)
                signal.disconnect(receiver)
        else:
            signal.connect(receiver, weak=False)
            signal.disconnect(receiver)
    ref.assert_not_called()


def test_send_robust_past_max_calls_still_catches_and_logs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def fails(sender: Any, **kwargs: Any) -> None:
        raise ValueError("second receiver")

    signal.connect(noop)
    signal.connect(fails)
    caplog.set_level(logging.ERROR, logger="django.dispatch")
    with override_settings(SIGNAL_PANEL={"MAX_CALLS": 1}), record_signals() as recording:
        responses = signal.send_robust(sender=None)
    assert isinstance(responses[1][1], ValueError)
    assert "second receiver" in caplog.text
    assert recording.dropped_calls == 1


def _recursion_depth(record: bool) -> tuple[int, Any]:
    depth = [0]

    def again(sender: Any, **kwargs: Any) -> None:
        depth[0] += 1
        signal.send_robust(sender=None)

    signal.connect(again)
    try:
        if record:
            with record_signals() as recording:
                signal.send_robust(sender=None)
            return depth[0], recording
        signal.send_robust(sender=None)
        return depth[0], None
    finally:
        signal.disconnect(again)


def test_recursion_caught_by_send_robust_reaches_the_same_depth_and_can_be_read() -> None:
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(400)
    try:
        vanilla, _ = _recursion_depth(record=False)
        recorded, recording = _recursion_depth(record=True)
    finally:
        sys.setrecursionlimit(limit)
    assert recorded == vanilla
    # Reading walks the tree without recursion, whatever its depth.
    kinds = {problem.kind for problem in recording.problems}
    assert {"recursion", "swallowed_error"} <= kinds
    assert "RecursionError" in recording.format_tree(color=False)
    assert panel_stats(recording)["send_count"] == len(recording.sends)


def test_a_wrapper_put_on_send_while_recording_keeps_working() -> None:
    signal.connect(noop)
    wrapped = []
    with record_signals():
        original = Signal.send

        @functools.wraps(original)
        def wrapper(self: Signal, sender: Any, **named: Any) -> Any:
            wrapped.append(sender)
            return original(self, sender, **named)

        Signal.send = wrapper  # type: ignore[method-assign]
    try:
        assert signal.send(sender="idle") == [(noop, None)]
        with record_signals() as recording:
            assert signal.send(sender="recorded") == [(noop, None)]
        assert signal.send(sender="idle again") == [(noop, None)]
    finally:
        # As the other library would take its wrapper away: ours is back, and stays.
        Signal.send = original  # type: ignore[method-assign]
        with record_signals():
            pass
    assert Signal.__dict__["send"] is methods.recorded["send"][2]
    assert wrapped == ["idle", "recorded", "idle again"]
    assert [send.sender for send in recording.sends] == ["'recorded'"]


# -- async, tasks and threads -------------------------------------------------------------------


async def test_an_async_receiver_returning_a_future_is_awaited() -> None:
    def returns_future(sender: Any, **kwargs: Any) -> asyncio.Future[str]:
        future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        future.set_result("from a future")
        return future

    markcoroutinefunction(returns_future)
    signal.connect(returns_future)
    with record_signals() as recording:
        responses = await signal.asend(sender=None)
        robust = await signal.asend_robust(sender=None)
    assert responses == [(returns_future, "from a future")]
    assert robust == [(returns_future, "from a future")]
    assert [call.error for call in recording.calls] == [None, None]


async def test_a_task_that_outlives_its_recording_writes_nothing_into_it() -> None:
    signal.connect(noop)
    go = asyncio.Event()

    async def late() -> None:
        await go.wait()
        for _ in range(50):
            signal.send(sender="late")

    with record_signals() as recording:
        signal.send(sender="inside")
        task = asyncio.ensure_future(late())
    go.set()
    await task
    assert [send.sender for send in recording.sends] == ["'inside'"]


async def test_threads_writing_one_recording_keep_it_whole_and_nested() -> None:
    inner = Signal()

    def outer_receiver(sender: Any, **kwargs: Any) -> None:
        inner.send(sender=sender)

    inner.connect(noop, weak=False)
    signal.connect(outer_receiver, weak=False)

    def work(number: int) -> None:
        for step in range(200):
            signal.send(sender=f"{number}-{step}")

    try:
        with record_signals() as recording:
            await asyncio.gather(
                *(sync_to_async(work, thread_sensitive=False)(n) for n in range(4))
            )
    finally:
        inner.receivers.clear()
    outer = [send for send in recording.sends if send.signal is signal]
    nested = [send for send in recording.sends if send.signal is inner]
    assert len(outer) == len(nested) == 800
    for send in nested:
        assert send.parent is not None
        assert send.parent.send.sender == send.sender  # under the call that made it
        assert send.depth == 1


# -- settings that pass the check work ----------------------------------------------------------


@override_settings(SIGNAL_PANEL={"MAX_CALLS": 2**63, "MAX_SENDS": 2**63})
def test_huge_limits_record() -> None:
    assert check_settings() == []
    signal.connect(noop)
    with record_signals() as recording:
        signal.send(sender=None)
    assert len(recording.calls) == 1


@override_settings(SIGNAL_PANEL={"IGNORE_SIGNALS": ["tests.testapp.signals.no_such_signal"]})
def test_ignoring_a_signal_that_does_not_exist_is_a_warning() -> None:
    (warning,) = check_settings()
    assert warning.id == "signal_panel.W001"
    assert "'tests.testapp.signals.no_such_signal'" in warning.msg


@pytest.mark.django_db
def test_signaltrace_takes_a_huge_max_calls(capsys: pytest.CaptureFixture[str]) -> None:
    call_command("signaltrace", "--max-calls", str(2**63), "check")
    assert "Signals:" in capsys.readouterr().out


def test_a_thread_started_in_a_receiver_nests_under_it() -> None:
    signal.connect(noop, weak=False)
    inner = Signal()
    inner.connect(noop, weak=False)
    threads: list[threading.Thread] = []

    def starts(sender: Any, **kwargs: Any) -> None:
        import contextvars

        thread = threading.Thread(target=contextvars.copy_context().run, args=(sends_inner,))
        thread.start()
        threads.append(thread)

    def sends_inner() -> None:
        inner.send(sender="from a thread")

    signal.connect(starts, weak=False)
    with record_signals() as recording:
        signal.send(sender="outer")
        threads[0].join()
    (nested,) = [send for send in recording.sends if send.signal is inner]
    assert nested.parent is not None
    assert nested.parent.receiver_name.endswith("starts")


def toolbar_receiver(sender: Any, **kwargs: Any) -> None:
    pass


toolbar_receiver.__module__ = "debug_toolbar.panels.templates.panel"


def test_the_toolbars_own_receivers_are_counted_not_recorded() -> None:
    signal.connect(toolbar_receiver)
    with record_signals() as recording:
        assert signal.send(sender=None) == [(toolbar_receiver, None)]
    assert recording.calls == []
    assert recording.observer_calls == 1
    assert recording.call_count == 0
    assert recording.sends[0].quiet  # it reached no receiver of the project


@override_settings(SIGNAL_PANEL={"SHOW_TOOLBAR_ACTIVITY": True})
def test_show_toolbar_activity_records_them() -> None:
    signal.connect(toolbar_receiver)
    with record_signals() as recording:
        signal.send(sender=None)
    assert [call.receiver_name for call in recording.calls] == [
        "debug_toolbar.panels.templates.panel.toolbar_receiver"
    ]
