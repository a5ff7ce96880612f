"""Instrumentation of ``django.dispatch.Signal``.

``send``, ``send_robust``, ``asend`` and ``asend_robust`` are mirrored here with two additions:
each receiver call is timed and recorded, and the recorder's context state names the receiver
while it runs (so sends it makes nest under it). Everything the caller can see is Django's: the
receivers come from ``Signal._live_receivers``, errors are logged by ``Signal._log_robust_failure``,
async receivers run through Django's own parallel runner, and the original receiver objects are
returned in the original order.

Switching: the recorded methods are installed on the class only while some recording is active
somewhere in the process (see ``recording.register_switch``); when nothing records, ``Signal.send``
*is* Django's function, so an idle process pays nothing. While the methods are installed, a context
with no recording of its own goes straight to Django's function.

``connect``, ``disconnect`` and ``__init__`` are wrapped for good at install(), to learn where
receivers were connected and where signals were defined; those run at start-up, not per request.
"""

from __future__ import annotations

import asyncio
import functools
import sys
import weakref
from collections.abc import Awaitable, Callable, Generator
from inspect import iscoroutinefunction
from typing import Any

from asgiref.sync import async_to_sync, sync_to_async
from django.dispatch import Signal, dispatcher

from signal_panel import _describe, _hotpath, recording, registry
from signal_panel._context import State, _state
from signal_panel.instrumentation._switch import MethodSwitch

__all__ = ["install", "receiver_entries"]

_MARK = "__signal_panel__"
_SEND_METHODS = ("send", "send_robust", "asend", "asend_robust")
# What each method was when recording was last switched on: Django's function, or another
# library's patch installed after ours, which we then wrap rather than replace.
_methods: MethodSwitch[str] = MethodSwitch()
_baseline = _methods.baseline

#: ``recording.SendKind`` constants by ``(robust, is_async)``.
_KIND: dict[tuple[bool, bool], tuple[str, bool, bool]] = {
    (robust, is_async): ("django", robust, is_async)
    for robust in (False, True)
    for is_async in (False, True)
}


# -- the one place that knows how Django's versions differ -------------------------------------

#: Django >= 6.0 runs async receivers with ``_run_parallel`` (one shared ``Context``, copied back
#: to the caller afterwards) and, in ``asend``, runs the sync group *before* the async receivers.
#: Django 5.2 uses ``asyncio.gather`` for both, running the sync group concurrently.
_RUN_PARALLEL: Callable[..., Awaitable[list[Any]]] | None = getattr(
    dispatcher, "_run_parallel", None
)


async def _parallel(*awaitables: Awaitable[Any]) -> list[Any]:
    if _RUN_PARALLEL is not None:
        return await _RUN_PARALLEL(*awaitables)
    return list(await asyncio.gather(*awaitables))


async def _sync_then_async(
    sync_part: Awaitable[list[tuple[Any, Any]]], make_async_part: Callable[[], Awaitable[list[Any]]]
) -> tuple[list[tuple[Any, Any]], list[Any]]:
    if _RUN_PARALLEL is not None:
        responses = await sync_part
        return responses, await make_async_part()
    responses, async_responses = await asyncio.gather(sync_part, make_async_part())
    return responses, async_responses


def receiver_entries(signal: Signal) -> list[tuple[Any, Any, bool, bool]]:
    """``(lookup_key, receiver or None if collected, weak, is_async)`` for each connected receiver.

    ``Signal.receivers`` holds 3-tuples on Django 5.x and 4-tuples (with a sender reference) on
    Django 6.x.
    """
    entries = []
    for entry in list(signal.receivers):
        if len(entry) == 4:
            lookup_key, ref, _sender_ref, is_async = entry
        else:
            lookup_key, ref, is_async = entry
        weak = isinstance(ref, weakref.ReferenceType)
        receiver = ref() if weak else ref
        entries.append((lookup_key, receiver, weak, bool(is_async)))
    return entries


# -- recorded dispatch -------------------------------------------------------------------------


def _run_sync(
    signal: Signal,
    sender: Any,
    named: dict[str, Any],
    receivers: list[Any],
    robust: bool,
    state: State,
    sends: list[int | None],
) -> list[tuple[Any, Any]]:
    """Django's sync receiver loop, each call recorded."""
    if len(state) == 1 and sends[0] is not None and "signal" not in named:
        rec, position = state[0]
        return _hotpath.run_sync_one(
            signal, sender, named, receivers, robust, rec, sends[0], position, False
        )
    responses = []
    for receiver in receivers:
        call_state, calls = recording.begin_call(state, sends, receiver, False)
        token = _state.set(call_state)
        try:
            response = receiver(signal=signal, sender=sender, **named)
        except Exception as err:
            _state.reset(token)
            recording.end_call(calls, state, err, robust)
            if not robust:
                raise
            signal._log_robust_failure(receiver, err)  # type: ignore[attr-defined]
            responses.append((receiver, err))
            continue
        except BaseException as err:
            _state.reset(token)
            recording.end_call(calls, state, err, False)
            raise
        _state.reset(token)
        recording.end_call(calls, state, None, False)
        responses.append((receiver, response))
    return responses


class _RecordedAwaitable:
    """Awaits an async receiver's coroutine step by step, naming its call in the context state
    during each step only.

    Setting the state once for the whole await would leak it to sibling receivers that share the
    ``Context`` (Django 6's ``_run_parallel``), and to the caller when Django copies that context
    back. Per step, the value is always put back before another task can run.
    """

    __slots__ = ("_coro", "_robust", "_start", "_state")

    def __init__(
        self,
        coro: Any,
        start: Callable[[], tuple[State, list[int | None]]],
        state: State,
        robust: bool,
    ):
        self._coro = coro
        self._start = start
        self._state = state
        self._robust = robust

    def __await__(self) -> Generator[Any, Any, Any]:
        coro, state = self._coro, self._state
        call_state, calls = self._start()
        to_send: Any = None
        to_throw: BaseException | None = None
        while True:
            token = _state.set(call_state)
            try:
                if to_throw is None:
                    yielded = coro.send(to_send)
                else:
                    error, to_throw = to_throw, None
                    yielded = coro.throw(error)
            except StopIteration as stop:
                _state.reset(token)
                recording.end_call(calls, state, None, False)
                return stop.value
            except BaseException as err:
                _state.reset(token)
                recording.end_call(calls, state, err, self._robust and isinstance(err, Exception))
                raise
            _state.reset(token)
            try:
                to_send = yield yielded
            except GeneratorExit:
                coro.close()
                raise
            except BaseException as err:
                to_send, to_throw = None, err


def _async_call(
    signal: Signal,
    sender: Any,
    named: dict[str, Any],
    receiver: Any,
    robust: bool,
    state: State,
    sends: list[int | None],
) -> Any:
    """Call an async receiver as Django does, returning an awaitable that records the call."""

    def start() -> tuple[State, list[int | None]]:
        return recording.begin_call(state, sends, receiver, True)

    try:
        coro = receiver(signal=signal, sender=sender, **named)
    except BaseException as err:
        # The receiver failed before returning a coroutine: record that as its call.
        _call_state, calls = start()
        recording.end_call(calls, state, err, robust and isinstance(err, Exception))
        raise
    return _RecordedAwaitable(coro, start, state, robust)


def _async_group(
    signal: Signal,
    sender: Any,
    named: dict[str, Any],
    receivers: list[Any],
    robust: bool,
    state: State,
    sends: list[int | None],
) -> Awaitable[list[Any]]:
    """The async receivers run concurrently, as Django runs them."""
    if not robust:
        return _parallel(
            *(_async_call(signal, sender, named, r, False, state, sends) for r in receivers)
        )

    async def asend_and_wrap_exception(receiver: Any) -> Any:
        try:
            response = await _async_call(signal, sender, named, receiver, True, state, sends)
        except Exception as err:
            signal._log_robust_failure(receiver, err)  # type: ignore[attr-defined]
            return err
        return response

    return _parallel(*(asend_and_wrap_exception(r) for r in receivers))


_NO_RECEIVERS = dispatcher.NO_RECEIVERS


def _send_general(
    signal: Signal, sender: Any, named: dict[str, Any], robust: bool, state: State
) -> Any:
    """``send()``/``send_robust()`` recorded into every active recording (or a full one)."""
    sends = recording.begin_send(state, signal, sender, named, _KIND[robust, False])
    if sends is None:
        return _baseline["send_robust" if robust else "send"](signal, sender, **named)
    try:
        # Django's fast path, in the same order, so the sender cache is touched the same way.
        if not signal.receivers or signal.sender_receivers_cache.get(sender) is _NO_RECEIVERS:
            return []
        sync_receivers, async_receivers = signal._live_receivers(sender)
        responses = _run_sync(signal, sender, named, sync_receivers, robust, state, sends)
        if async_receivers:
            responses.extend(
                _async_from_sync(signal, sender, named, async_receivers, robust, state, sends)
            )
        return responses
    finally:
        recording.end_send(sends, state)


def _async_from_sync(
    signal: Signal,
    sender: Any,
    named: dict[str, Any],
    receivers: list[Any],
    robust: bool,
    state: State,
    sends: list[int | None],
) -> Any:
    """Async receivers of a sync send, run as Django runs them: one ``async_to_sync`` call."""

    async def asend() -> Any:
        responses = await _async_group(signal, sender, named, receivers, robust, state, sends)
        return zip(receivers, responses, strict=False)

    return async_to_sync(asend)()


async def _asend(signal: Signal, sender: Any, named: dict[str, Any], robust: bool) -> Any:
    state = _state.get()
    sends = (
        recording.begin_send(state, signal, sender, named, _KIND[robust, True]) if state else None
    )
    if sends is None:
        return await _baseline["asend_robust" if robust else "asend"](signal, sender, **named)
    try:
        if not signal.receivers or signal.sender_receivers_cache.get(sender) is _NO_RECEIVERS:
            return []
        sync_receivers, async_receivers = signal._live_receivers(sender)

        if sync_receivers:

            @sync_to_async
            def sync_send() -> list[tuple[Any, Any]]:
                return _run_sync(signal, sender, named, sync_receivers, robust, state, sends)

        else:

            async def sync_send() -> list[tuple[Any, Any]]:
                return []

        responses, async_responses = await _sync_then_async(
            sync_send(),
            lambda: _async_group(signal, sender, named, async_receivers, robust, state, sends),
        )
        responses.extend(zip(async_receivers, async_responses, strict=False))
        return responses
    finally:
        recording.end_send(sends, state)


def _make_recorded() -> dict[str, Any]:
    django_send = Signal.__dict__["send"]
    django_send_robust = Signal.__dict__["send_robust"]
    django_asend = Signal.__dict__["asend"]
    django_asend_robust = Signal.__dict__["asend_robust"]

    make_send = _hotpath.make_send
    shared = (_baseline, _send_general, _async_from_sync)
    send = make_send(False, django_send, *shared, _KIND[False, False])
    send_robust = make_send(True, django_send_robust, *shared, _KIND[True, False])

    @functools.wraps(django_asend)
    async def asend(self: Signal, sender: Any, **named: Any) -> Any:
        return await _asend(self, sender, named, False)

    @functools.wraps(django_asend_robust)
    async def asend_robust(self: Signal, sender: Any, **named: Any) -> Any:
        return await _asend(self, sender, named, True)

    methods = {
        "send": send,
        "send_robust": send_robust,
        "asend": asend,
        "asend_robust": asend_robust,
    }
    for method in methods.values():
        setattr(method, _MARK, True)
    return methods


# -- connect / disconnect / __init__ ----------------------------------------------------------


def _connect_args(
    receiver: Any, sender: Any = None, weak: bool = True, dispatch_uid: Any = None
) -> tuple[Any, Any, bool, Any]:
    return receiver, sender, weak, dispatch_uid


def _disconnect_args(
    receiver: Any = None, sender: Any = None, dispatch_uid: Any = None
) -> tuple[Any, Any, Any]:
    return receiver, sender, dispatch_uid


def _lookup_key(receiver: Any, sender: Any, dispatch_uid: Any) -> Any:
    make_id = dispatcher._make_id  # type: ignore[attr-defined]
    if dispatch_uid:
        return (dispatch_uid, make_id(sender))
    return (make_id(receiver), make_id(sender))


def _callsite_text() -> str:
    callsite = _hotpath.find_callsite()
    return _describe.format_callsite(*callsite) if callsite else "?"


def _note_event(action: str, signal: object, receiver: object) -> None:
    state = _state.get()
    if state:
        name = _describe.describe_receiver(receiver).name if receiver is not None else "?"
        recording.note_connection(state, action, signal, name, _callsite_text())


def _wrap_connect(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def connect(self: Signal, *args: Any, **kwargs: Any) -> Any:
        result = original(self, *args, **kwargs)
        try:
            receiver, sender, weak, dispatch_uid = _connect_args(*args, **kwargs)
            location = _callsite_text()
            registry.note_connect(
                self,
                receiver,
                _lookup_key(receiver, sender, dispatch_uid),
                weak,
                dispatch_uid,
                location.split(" in ", 1)[0],
            )
            _note_event("connect", self, receiver)
        except Exception:
            pass  # Never let bookkeeping break a connect().
        return result

    setattr(connect, _MARK, True)
    return connect


def _wrap_disconnect(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def disconnect(self: Signal, *args: Any, **kwargs: Any) -> Any:
        result = original(self, *args, **kwargs)
        try:
            receiver, sender, dispatch_uid = _disconnect_args(*args, **kwargs)
            registry.note_disconnect(self, _lookup_key(receiver, sender, dispatch_uid))
            if result:
                _note_event("disconnect", self, receiver)
        except Exception:
            pass
        return result

    setattr(disconnect, _MARK, True)
    return disconnect


def _wrap_init(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def __init__(self: Signal, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        try:
            frame = sys._getframe(1)
            registry.note_created(self, frame.f_globals.get("__name__"))
        except Exception:
            pass

    setattr(__init__, _MARK, True)
    return __init__


def _list_receivers(signal: Signal) -> list[dict[str, Any]]:
    rows = []
    for lookup_key, receiver, weak, is_async in receiver_entries(signal):
        connection = registry.connection_for(signal, lookup_key)
        if receiver is None:
            name, definition = (
                (connection.receiver_name, connection.definition)
                if connection
                else (
                    "<collected>",
                    "?",
                )
            )
        else:
            info = _describe.describe_receiver(receiver)
            name, definition = info.name, info.location
            if not is_async:
                is_async = iscoroutinefunction(receiver)
        sender_id = (
            lookup_key[1] if isinstance(lookup_key, tuple) and len(lookup_key) == 2 else None
        )
        rows.append(
            {
                "receiver": name,
                "definition": definition,
                "connected_at": connection.location if connection else None,
                "dispatch_uid": connection.dispatch_uid if connection else None,
                "sender_filter": sender_id != dispatcher.NONE_ID,
                "weak": weak,
                "is_async": is_async,
                "dead": receiver is None,
            }
        )
    return rows


def install() -> None:
    """Wrap ``connect``/``disconnect``/``__init__``; prepare the recorded send methods.

    Idempotent: a marker on the wrapped ``connect`` says it was done."""
    if getattr(Signal.__dict__.get("connect"), _MARK, False):
        return
    for name, method in _make_recorded().items():
        _methods.add(name, Signal, name, method)
    Signal.connect = _wrap_connect(Signal.__dict__["connect"])  # type: ignore[method-assign]
    Signal.disconnect = _wrap_disconnect(Signal.__dict__["disconnect"])  # type: ignore[method-assign]
    Signal.__init__ = _wrap_init(Signal.__dict__["__init__"])  # type: ignore[method-assign]
    registry.register_library(
        registry.Library(name="django", signal_types=(Signal,), list_receivers=_list_receivers)
    )
    recording.register_switch(_methods.on, _methods.off)
