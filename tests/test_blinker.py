"""blinker signals: recorded like Django's, nested with them, unchanged for the observed code."""

from __future__ import annotations

import asyncio
import contextvars
import gc
import sys
import threading
import types
import weakref
from typing import Any

import blinker
import pytest
from asgiref.sync import async_to_sync, sync_to_async
from django.db.models.signals import post_save
from django.dispatch import Signal as DjangoSignal

from signal_panel import record_signals, registry
from signal_panel.tracking import blinker as blinker_signals
from signal_panel.tracking.rows import state as _state
from tests.testapp.models import Author

# Module-level signals: an anonymous one is named by its dotted path, a named one by its name.
order_placed = blinker.Signal()
shipped = blinker.signal("test-blinker-shipped")
_namespace = blinker.Namespace()
refunded = _namespace.signal("test-blinker-refunded")
django_placed = DjangoSignal()

marker: contextvars.ContextVar[str] = contextvars.ContextVar("marker", default="unset")


def _receiver_names(send: Any) -> list[str]:
    return [call.receiver_name for call in send.calls]


def on_order(sender: Any, **kwargs: Any) -> str:
    return f"handled {kwargs.get('number')}"


def failing(sender: Any, **kwargs: Any) -> None:
    raise ValueError("out of stock")


async def async_on_order(sender: Any, **kwargs: Any) -> str:
    await asyncio.sleep(0)
    return "async handled"


@pytest.fixture
def signal() -> blinker.Signal:
    return blinker.Signal()


# -- what is recorded --------------------------------------------------------------------------


def test_send_is_recorded_with_library_blinker(signal: blinker.Signal) -> None:
    signal.connect(on_order)
    with record_signals() as recording:
        signal.send("shop", number=7)
    [send] = recording.sends
    assert send.library == "blinker"


def test_send_records_sender_kwargs_and_receiver(signal: blinker.Signal) -> None:
    signal.connect(on_order)
    with record_signals() as recording:
        signal.send("shop", number=7)
    [send] = recording.sends
    assert (send.sender, send.kwargs, _receiver_names(send)) == (
        "'shop'",
        {"number": "7"},
        ["tests.test_blinker.on_order"],
    )


def test_send_callsite_is_the_caller(signal: blinker.Signal) -> None:
    signal.connect(on_order)
    with record_signals() as recording:
        signal.send("shop")
    assert " in test_send_callsite_is_the_caller" in recording.sends[0].callsite


def test_send_async_callsite_is_the_caller(signal: blinker.Signal) -> None:
    signal.connect(async_on_order)

    async def send() -> None:
        with record_signals() as recording:
            await signal.send_async("shop")
        assert " in test_send_async_callsite_is_the_caller.<locals>.send" in (
            recording.sends[0].callsite
        )

    asyncio.run(send())


def test_send_without_receivers_is_recorded(signal: blinker.Signal) -> None:
    with record_signals() as recording:
        signal.send()
    assert [(send.library, send.calls) for send in recording.sends] == [("blinker", [])]


def test_named_signal_is_named_by_its_name() -> None:
    shipped.connect(on_order)
    try:
        with record_signals() as recording:
            shipped.send()
    finally:
        shipped.disconnect(on_order)
    assert recording.sends[0].signal_name == "test-blinker-shipped"


def test_anonymous_module_level_signal_is_named_by_its_dotted_path() -> None:
    with record_signals() as recording:
        order_placed.send()
    assert recording.sends[0].signal_name == "tests.test_blinker.order_placed"


def test_anonymous_signal_defined_elsewhere_is_found_by_scanning_modules() -> None:
    module = types.ModuleType("tests._blinker_scanned_signals")
    module.cancelled = blinker.Signal()  # type: ignore[attr-defined]
    sys.modules[module.__name__] = module
    try:
        with record_signals() as recording:
            module.cancelled.send()  # type: ignore[attr-defined]
        assert recording.sends[0].signal_name == "tests._blinker_scanned_signals.cancelled"
    finally:
        del sys.modules[module.__name__]


def test_send_async_is_recorded_as_async(signal: blinker.Signal) -> None:
    signal.connect(async_on_order)

    async def send() -> Any:
        with record_signals() as recording:
            await signal.send_async("shop")
        return recording

    recording = asyncio.run(send())
    [send_] = recording.sends
    assert (send_.is_async, send_.robust, [c.is_async for c in send_.calls]) == (
        True,
        False,
        [True],
    )


def test_async_receiver_duration_includes_its_suspension(signal: blinker.Signal) -> None:
    async def slow(sender: Any) -> None:
        await asyncio.sleep(0.01)

    signal.connect(slow)

    async def send() -> Any:
        with record_signals() as recording:
            await signal.send_async()
        return recording

    recording = asyncio.run(send())
    assert recording.sends[0].calls[0].duration_ns >= 10_000_000


def test_error_is_recorded_on_the_call(signal: blinker.Signal) -> None:
    signal.connect(failing)
    with record_signals() as recording, pytest.raises(ValueError, match="out of stock"):
        signal.send()
    call = recording.sends[0].calls[0]
    assert (call.error, call.swallowed) == ("ValueError: out of stock", False)


def test_raised_error_is_a_problem(signal: blinker.Signal) -> None:
    signal.connect(failing)
    with record_signals() as recording, pytest.raises(ValueError, match="out of stock"):
        signal.send()
    assert [problem.kind for problem in recording.problems] == ["raised_error"]


def test_send_is_recorded_in_every_active_recording(signal: blinker.Signal) -> None:
    signal.connect(on_order)
    with record_signals() as outer, record_signals() as inner:
        signal.send()
    assert (len(outer.sends), len(inner.sends), len(outer.sends[0].calls)) == (1, 1, 1)


def test_ignore_signals_leaves_a_named_signal_out(settings: Any) -> None:
    settings.SIGNAL_PANEL = {"IGNORE_SIGNALS": ["test-blinker-shipped"]}
    with record_signals() as recording:
        shipped.send()
    assert recording.sends == []


def test_muted_signal_is_not_recorded(signal: blinker.Signal) -> None:
    signal.connect(on_order)
    with signal.muted(), record_signals() as recording:
        signal.send()
    assert recording.sends == []


# -- nesting with Django's signals -------------------------------------------------------------


def test_blinker_send_from_a_django_receiver_nests_under_it(signal: blinker.Signal) -> None:
    def django_receiver(sender: Any, **kwargs: Any) -> None:
        signal.send("from django")

    django_placed.connect(django_receiver, weak=False)
    try:
        with record_signals() as recording:
            django_placed.send(sender=None)
    finally:
        django_placed.disconnect(django_receiver)
    django_send, blinker_send = recording.sends
    assert (blinker_send.parent, blinker_send.depth) == (django_send.calls[0], 1)


@pytest.mark.django_db
def test_django_send_from_a_blinker_receiver_nests_under_it(signal: blinker.Signal) -> None:
    def blinker_receiver(sender: Any) -> None:
        Author.objects.create(name="Ursula")

    signal.connect(blinker_receiver)
    with record_signals() as recording:
        signal.send()
    saves = [send for send in recording.sends if send.signal is post_save]
    assert [(send.parent, send.depth) for send in saves] == [(recording.sends[0].calls[0], 1)]


def test_three_levels_alternate_between_libraries(signal: blinker.Signal) -> None:
    inner = blinker.Signal()
    inner.connect(on_order)

    def django_receiver(sender: Any, **kwargs: Any) -> None:
        inner.send()

    def blinker_receiver(sender: Any) -> None:
        django_placed.send(sender=None)

    signal.connect(blinker_receiver)
    django_placed.connect(django_receiver, weak=False)
    try:
        with record_signals() as recording:
            signal.send()
    finally:
        django_placed.disconnect(django_receiver)
    assert [(send.library, send.depth) for send in recording.sends] == [
        ("blinker", 0),
        ("django", 1),
        ("blinker", 2),
    ]


def test_send_async_from_parallel_django_receivers_nests_under_each(
    signal: blinker.Signal,
) -> None:
    # Django 6 runs async receivers in one shared Context: while they interleave, each blinker
    # receiver must still see its own call as the parent of the sends it makes.
    inner = blinker.Signal()

    async def interleaving(sender: Any) -> None:
        for _ in range(3):
            await asyncio.sleep(0)
        inner.send(sender)

    signal.connect(interleaving)

    async def first(sender: Any, **kwargs: Any) -> None:
        await asyncio.sleep(0)
        await signal.send_async("first")

    async def second(sender: Any, **kwargs: Any) -> None:
        await signal.send_async("second")
        await asyncio.sleep(0)

    django_placed.connect(first, weak=False)
    django_placed.connect(second, weak=False)

    async def send() -> Any:
        with record_signals() as recording:
            await django_placed.asend(sender=None)
        return recording

    try:
        recording = asyncio.run(send())
    finally:
        django_placed.disconnect(first)
        django_placed.disconnect(second)
    django_calls = recording.sends[0].calls
    chains = {
        send.sender: (send.parent.send.parent.receiver_name, send.parent.receiver_name)
        for send in recording.sends
        if send.signal is inner
    }
    assert chains == {
        "'first'": (
            django_calls[0].receiver_name,
            "tests.test_blinker." + interleaving.__qualname__,
        ),
        "'second'": (
            django_calls[1].receiver_name,
            "tests.test_blinker." + interleaving.__qualname__,
        ),
    }


def test_context_state_is_unchanged_after_send_async(signal: blinker.Signal) -> None:
    signal.connect(async_on_order)

    async def send() -> tuple[Any, Any]:
        with record_signals():
            before = _state.get()
            await signal.send_async()
            return before, _state.get()

    before, after = asyncio.run(send())
    assert after == before


def test_context_state_is_unchanged_after_a_failing_send(signal: blinker.Signal) -> None:
    signal.connect(failing)
    with record_signals():
        before = _state.get()
        with pytest.raises(ValueError, match="out of stock"):
            signal.send()
        assert _state.get() == before


def test_sends_inside_a_sync_wrapped_receiver_nest_under_it(signal: blinker.Signal) -> None:
    inner = blinker.Signal()

    def threaded(sender: Any) -> None:
        inner.send("in a thread")

    signal.connect(threaded)

    async def send() -> Any:
        with record_signals() as recording:
            await signal.send_async(_sync_wrapper=sync_to_async)
        return recording

    recording = asyncio.run(send())
    outer_send, inner_send = recording.sends
    assert inner_send.parent is outer_send.calls[0]


def test_sends_inside_an_async_wrapped_receiver_nest_under_it(signal: blinker.Signal) -> None:
    inner = blinker.Signal()

    async def in_a_loop(sender: Any) -> None:
        await asyncio.sleep(0)
        inner.send("in a loop")

    signal.connect(in_a_loop)
    with record_signals() as recording:
        signal.send(_async_wrapper=async_to_sync)
    outer_send, inner_send = recording.sends
    assert inner_send.parent is outer_send.calls[0]


# -- nothing changes for the observed code -----------------------------------------------------


def test_send_returns_the_original_receivers_and_results(signal: blinker.Signal) -> None:
    signal.connect(on_order)
    with record_signals():
        results = signal.send("shop", number=3)
    assert len(results) == 1
    assert results[0][0] is on_order
    assert results[0][1] == "handled 3"


def test_bound_method_receiver_is_returned_as_blinker_returns_it(signal: blinker.Signal) -> None:
    class Handler:
        def handle(self, sender: Any) -> int:
            return 1

    handler = Handler()
    signal.connect(handler.handle)
    vanilla = signal.send()
    with record_signals():
        recorded = signal.send()
    assert recorded == vanilla


def test_the_same_exception_object_propagates(signal: blinker.Signal) -> None:
    error = KeyError("gone")

    def raising(sender: Any) -> None:
        raise error

    signal.connect(raising)
    with record_signals(), pytest.raises(KeyError) as caught:
        signal.send()
    assert caught.value is error


def test_base_exceptions_propagate_and_are_recorded(signal: blinker.Signal) -> None:
    def interrupted(sender: Any) -> None:
        raise KeyboardInterrupt

    signal.connect(interrupted)
    with record_signals() as recording, pytest.raises(KeyboardInterrupt):
        signal.send()
    assert recording.sends[0].calls[0].error == "KeyboardInterrupt: "


def test_muted_signal_calls_no_receiver(signal: blinker.Signal) -> None:
    calls = []
    signal.connect(lambda sender: calls.append(sender), weak=False)
    with signal.muted(), record_signals():
        result = signal.send("x")
    assert (result, calls) == ([], [])


def test_muted_signal_send_async_calls_no_receiver(signal: blinker.Signal) -> None:
    signal.connect(async_on_order)

    async def send() -> Any:
        with signal.muted(), record_signals():
            return await signal.send_async()

    assert asyncio.run(send()) == []


def test_async_wrapper_runs_coroutine_receivers(signal: blinker.Signal) -> None:
    signal.connect(async_on_order)
    with record_signals() as recording:
        results = signal.send("shop", _async_wrapper=async_to_sync)
    assert results == [(async_on_order, "async handled")]
    assert recording.sends[0].calls[0].is_async


def test_async_wrapper_is_not_passed_to_receivers(signal: blinker.Signal) -> None:
    seen = []

    def plain(sender: Any, **kwargs: Any) -> None:
        seen.append(kwargs)

    signal.connect(plain)
    with record_signals():
        signal.send(_async_wrapper=async_to_sync, number=1)
    assert seen == [{"number": 1}]


def test_coroutine_receiver_without_wrapper_raises_blinkers_error(signal: blinker.Signal) -> None:
    signal.connect(async_on_order)
    with record_signals(), pytest.raises(RuntimeError, match=r"^Cannot send to a coroutine"):
        signal.send()


def test_coroutine_receiver_without_wrapper_is_recorded_as_failing(
    signal: blinker.Signal,
) -> None:
    signal.connect(async_on_order)
    with record_signals() as recording, pytest.raises(RuntimeError):
        signal.send()
    assert recording.sends[0].calls[0].error == (
        "RuntimeError: Cannot send to a coroutine function."
    )


def test_sync_wrapper_runs_plain_receivers_in_send_async(signal: blinker.Signal) -> None:
    signal.connect(on_order)

    async def send() -> Any:
        with record_signals():
            return await signal.send_async("shop", _sync_wrapper=sync_to_async, number=2)

    assert asyncio.run(send()) == [(on_order, "handled 2")]


def test_plain_receiver_without_sync_wrapper_raises_blinkers_error(
    signal: blinker.Signal,
) -> None:
    signal.connect(on_order)

    async def send() -> Any:
        with record_signals():
            return await signal.send_async()

    with pytest.raises(RuntimeError, match=r"^Cannot send to a non-coroutine function\.$"):
        asyncio.run(send())


def test_wrong_arguments_fail_as_in_blinker(signal: blinker.Signal) -> None:
    with pytest.raises(TypeError) as vanilla:
        signal.send(1, 2)
    with record_signals(), pytest.raises(TypeError) as recorded:
        signal.send(1, 2)
    assert str(recorded.value) == str(vanilla.value)


def test_sender_given_by_keyword_reaches_receivers_as_blinker_passes_it(
    signal: blinker.Signal,
) -> None:
    seen = []
    signal.connect(lambda *args, **kwargs: seen.append((args, kwargs)), weak=False)
    signal.send(sender="kw")
    with record_signals():
        signal.send(sender="kw")
    assert seen[0] == seen[1] == ((None,), {"sender": "kw"})


def test_receivers_connected_for_another_sender_are_not_called(signal: blinker.Signal) -> None:
    calls = []
    signal.connect(lambda sender: calls.append(sender), sender="a", weak=False)
    with record_signals() as recording:
        signal.send("b")
    assert (calls, recording.sends[0].calls) == ([], [])


def test_context_variable_set_by_a_receiver_is_seen_by_the_caller(
    signal: blinker.Signal,
) -> None:
    def setting(sender: Any) -> None:
        marker.set("set by receiver")

    signal.connect(setting)

    def run() -> str:
        with record_signals():
            signal.send()
        return marker.get()

    assert contextvars.copy_context().run(run) == "set by receiver"


def test_weak_receiver_is_not_kept_alive_by_a_recording(signal: blinker.Signal) -> None:
    def local(sender: Any) -> None:
        pass

    signal.connect(local)
    ref = weakref.ref(local)
    with record_signals() as recording:
        signal.send()
    del local
    gc.collect()
    assert (ref(), len(recording.sends[0].calls)) == (None, 1)


def test_collected_weak_receiver_is_disconnected_as_in_blinker(signal: blinker.Signal) -> None:
    def local(sender: Any) -> None:
        pass

    signal.connect(local)
    del local
    gc.collect()
    with record_signals() as recording:
        results = signal.send()
    assert (results, signal.receivers, recording.sends[0].calls) == ([], {}, [])


def test_weak_sender_is_not_kept_alive_by_a_recording(signal: blinker.Signal) -> None:
    class Sender:
        pass

    sender = Sender()
    signal.connect(on_order, sender=sender)
    ref = weakref.ref(sender)
    with record_signals():
        signal.send(sender)
    del sender
    gc.collect()
    assert ref() is None


def test_receiver_connected_is_still_sent(signal: blinker.Signal) -> None:
    seen = []

    def on_connect(source: Any, **kwargs: Any) -> None:
        seen.append((source, kwargs))

    signal.receiver_connected.connect(on_connect)
    signal.connect(on_order, sender="shop", weak=False)
    assert seen == [(signal, {"receiver": on_order, "sender": "shop", "weak": False})]


def test_receiver_disconnected_is_still_sent(signal: blinker.Signal) -> None:
    seen = []

    def on_disconnect(source: Any, **kwargs: Any) -> None:
        seen.append((source, kwargs))

    signal.receiver_disconnected.connect(on_disconnect)
    signal.connect(on_order)
    signal.disconnect(on_order)
    assert seen == [(signal, {"receiver": on_order, "sender": blinker.ANY})]


def test_connect_returns_the_receiver_for_decorator_use(signal: blinker.Signal) -> None:
    assert signal.connect(on_order) is on_order


def test_connected_to_disconnects_afterwards(signal: blinker.Signal) -> None:
    with signal.connected_to(on_order):
        pass
    assert signal.receivers == {}


# -- switching ---------------------------------------------------------------------------------


def test_recorded_send_is_in_place_while_recording_and_stays_after() -> None:
    with record_signals():
        assert getattr(blinker.Signal.__dict__["send"], "__signal_panel__", False)
    assert getattr(blinker.Signal.__dict__["send"], "__signal_panel__", False)


def test_a_context_that_records_nothing_gets_blinkers_own_results(signal: blinker.Signal) -> None:
    signal.connect(on_order)
    with record_signals():
        pass
    assert signal.send() == [(on_order, "handled None")]


def test_a_context_that_does_not_record_is_not_recorded(signal: blinker.Signal) -> None:
    signal.connect(on_order)
    results = []
    with record_signals() as recording:
        thread = threading.Thread(target=lambda: results.append(signal.send()))
        thread.start()
        thread.join()
    assert (results, recording.sends) == ([[(on_order, "handled None")]], [])


# -- duplicates and connection places ----------------------------------------------------------


class Listener:
    def on_order(self, sender: Any, **kwargs: Any) -> None:
        pass


def test_receiver_connected_at_is_the_connect_line(signal: blinker.Signal) -> None:
    signal.connect(on_order)  # the connection place
    with record_signals() as recording:
        signal.send()
    connected_at = recording.sends[0].calls[0].connected_at
    assert connected_at is not None
    assert connected_at.startswith("tests/test_blinker.py:")


def test_receiver_connected_with_connect_via_is_placed_at_the_decorator(
    signal: blinker.Signal,
) -> None:
    @signal.connect_via(blinker.ANY)
    def decorated(sender: Any) -> None:
        pass

    with record_signals() as recording:
        signal.send()
    line = test_receiver_connected_with_connect_via_is_placed_at_the_decorator.__code__
    expected = f"tests/test_blinker.py:{line.co_firstlineno + 3}"
    assert recording.sends[0].calls[0].connected_at == expected


def test_bound_methods_of_two_instances_are_a_duplicate(signal: blinker.Signal) -> None:
    first, second = Listener(), Listener()
    signal.connect(first.on_order)
    signal.connect(second.on_order)
    with record_signals() as recording:
        signal.send()
    [problem] = [p for p in recording.problems if p.kind == "duplicate_receiver"]
    assert problem.details["per_send"] == 2


def test_duplicate_of_a_blinker_receiver_lists_where_it_was_connected(
    signal: blinker.Signal,
) -> None:
    first, second = Listener(), Listener()
    signal.connect(first.on_order)
    signal.connect(second.on_order)
    with record_signals() as recording:
        signal.send()
    [problem] = [p for p in recording.problems if p.kind == "duplicate_receiver"]
    assert len(problem.locations) == 2
    assert all(place.startswith("tests/test_blinker.py:") for place in problem.locations)


def test_connect_while_recording_is_noted(signal: blinker.Signal) -> None:
    with record_signals() as recording:
        signal.connect(on_order)
    assert [(event.action, event.receiver_name) for event in recording.connections] == [
        ("connect", "tests.test_blinker.on_order")
    ]


def test_disconnect_while_recording_is_noted(signal: blinker.Signal) -> None:
    signal.connect(on_order)
    with record_signals() as recording:
        signal.disconnect(on_order)
    assert [event.action for event in recording.connections] == ["disconnect"]


def test_disconnect_of_a_receiver_never_connected_is_not_noted(signal: blinker.Signal) -> None:
    with record_signals() as recording:
        signal.disconnect(on_order)
    assert recording.connections == []


# -- the registry ------------------------------------------------------------------------------


def _blinker_library() -> registry.Library:
    [library] = [lib for lib in registry.libraries() if lib.name == "blinker"]
    return library


def test_blinker_is_available() -> None:
    assert blinker_signals.AVAILABLE


def test_blinker_library_is_registered_with_blinkers_signal_type() -> None:
    assert _blinker_library().signal_types == (blinker.Signal,)


def test_registry_lists_default_namespace_signals() -> None:
    known = dict(registry.known_signals())
    assert known["test-blinker-shipped"] is shipped


def test_named_signals_include_module_level_namespaces() -> None:
    assert _blinker_library().named_signals()["test-blinker-refunded"] is refunded


def test_named_signals_of_the_same_name_in_two_namespaces_are_both_listed() -> None:
    module = types.ModuleType("tests._blinker_other_namespace")
    module.signals = blinker.Namespace()  # type: ignore[attr-defined]
    other = module.signals.signal("test-blinker-refunded")  # type: ignore[attr-defined]
    sys.modules[module.__name__] = module
    try:
        named = _blinker_library().named_signals()
    finally:
        del sys.modules[module.__name__]
    assert named["tests._blinker_other_namespace.signals:test-blinker-refunded"] is other


def test_registry_lists_anonymous_module_level_signals() -> None:
    known = dict(registry.known_signals())
    assert known["tests.test_blinker.order_placed"] is order_placed


def test_registry_leaves_blinkers_meta_signals_out(signal: blinker.Signal) -> None:
    meta = signal.receiver_connected
    assert all(known is not meta for _name, known in registry.known_signals())


def test_list_receivers_describes_a_receiver(signal: blinker.Signal) -> None:
    signal.connect(on_order, weak=False)
    [row] = _blinker_library().list_receivers(signal)
    assert {key: row[key] for key in ("receiver", "weak", "is_async", "dead", "sender_filter")} == {
        "receiver": "tests.test_blinker.on_order",
        "weak": False,
        "is_async": False,
        "dead": False,
        "sender_filter": False,
    }


def test_list_receivers_gives_the_connection_place(signal: blinker.Signal) -> None:
    signal.connect(on_order)
    [row] = _blinker_library().list_receivers(signal)
    assert row["connected_at"].startswith("tests/test_blinker.py:")


def test_list_receivers_marks_a_sender_filter(signal: blinker.Signal) -> None:
    signal.connect(on_order, sender="shop")
    [row] = _blinker_library().list_receivers(signal)
    assert row["sender_filter"] is True


def test_list_receivers_names_a_string_sender(signal: blinker.Signal) -> None:
    signal.connect(on_order, sender="shop")
    [row] = _blinker_library().list_receivers(signal)
    assert row["sender"] == "'shop'"


def test_list_receivers_names_a_class_sender(signal: blinker.Signal) -> None:
    signal.connect(on_order, sender=Author)
    [row] = _blinker_library().list_receivers(signal)
    assert row["sender"] == "testapp.Author"


def test_list_receivers_names_no_sender_for_any_sender(signal: blinker.Signal) -> None:
    signal.connect(on_order)
    [row] = _blinker_library().list_receivers(signal)
    assert row["sender"] == ""


def test_list_receivers_marks_an_async_receiver(signal: blinker.Signal) -> None:
    signal.connect(async_on_order)
    [row] = _blinker_library().list_receivers(signal)
    assert row["is_async"] is True


def test_list_receivers_leaves_out_a_receiver_disconnected_from_its_only_sender(
    signal: blinker.Signal,
) -> None:
    signal.connect(on_order, sender="shop")
    signal.disconnect(on_order, sender="shop")
    assert _blinker_library().list_receivers(signal) == []


class IntReceiver(int):
    """A receiver blinker keys by its value (``make_id`` of an int), so two of them share an id."""

    def __call__(self, sender: Any) -> None:
        pass


def test_receiver_dropped_without_disconnect_is_forgotten_when_its_id_returns(
    signal: blinker.Signal,
) -> None:
    signal.connect(IntReceiver(1), weak=False)
    # What blinker does when a weak receiver is collected: no disconnect() call.
    signal._disconnect(1, blinker.base.ANY_ID)
    signal.connect(IntReceiver(1), weak=False)  # the place to report
    line = sys._getframe().f_lineno - 1
    [row] = _blinker_library().list_receivers(signal)
    assert row["connected_at"] == f"tests/test_blinker.py:{line}"
