"""Tracking of ``django.dispatch.Signal``.

``send``, ``send_robust``, ``asend`` and ``asend_robust`` are Django's, line for line, with two
additions: each receiver call is written as a row (:mod:`.rows`), and the context state names the
call while the receiver runs, so the sends it makes nest under it. Everything the caller sees is
Django's: the same checks in the same order (a sender is hashed only where Django hashes it), the
receivers from ``Signal._live_receivers``, errors logged by ``Signal._log_robust_failure``, async
receivers run by Django's own parallel runner, the original receivers returned in order. The
recorded ``send`` calls each receiver from its own frame, as Django's does, so a recursion of
sends reaches the same depth as without recording.

Switching: the recorded methods are on the class from the first recording in the process on
(:mod:`signal_panel.tracking`); until then ``Signal.send`` *is* Django's function. Afterwards a
context that records nothing runs Django's code in the recorded ``send``'s frame (see
:func:`_make_send`), and ``asend`` awaits Django's function.

``connect``, ``disconnect`` and ``__init__`` are wrapped for good at install(), to learn where
receivers were connected and signals defined; they run at start-up, not per request.
"""

from __future__ import annotations

import asyncio
import functools
import sys
import types
import weakref
from collections.abc import Awaitable, Callable, Generator
from inspect import iscoroutinefunction
from typing import Any

from asgiref.sync import async_to_sync, sync_to_async
from django.apps import apps as _apps
from django.dispatch import Signal, dispatcher

from signal_panel import naming, registry
from signal_panel.tracking import rows
from signal_panel.tracking.rows import (
    C_END,
    C_INFO,
    C_SEND,
    C_START,
    S_END,
    S_QUIET,
    S_START,
    State,
)
from signal_panel.tracking.switch import MethodSwitch

__all__ = ["entry_receiver", "install", "methods", "mute", "receiver_entries", "unmute"]

_MARK = "__signal_panel__"
#: The recorded send methods and what they replace.
methods: MethodSwitch[str] = MethodSwitch()
_baseline = methods.baseline
_state = rows.state
_get_state = _state.get
_NO_RECEIVERS = dispatcher.NO_RECEIVERS

#: ``(library, robust, is_async)`` of each method.
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


def sender_of(signal: Signal, lookup_key: Any) -> str:
    """The label of the sender a receiver is connected for, read from ``Signal.receivers``:
    Django 6 keeps a weak reference to it in the entry; on 5.x the sender's id is matched
    against the registered models. "" when it cannot be told."""
    sender_id = lookup_key[1] if isinstance(lookup_key, tuple) and len(lookup_key) == 2 else None
    if sender_id is None or sender_id == dispatcher.NONE_ID:
        return ""
    for entry in list(signal.receivers):
        if len(entry) == 4 and entry[0] == lookup_key and entry[2] is not None:
            sender = entry[2]() if isinstance(entry[2], naming._weak) else entry[2]
            if sender is not None:
                return naming.sender_label(sender) or ""
    try:
        from django.apps import apps

        for model in apps.get_models(include_auto_created=True):
            if id(model) == sender_id:
                return naming.sender_label(model) or ""
    except Exception:
        pass
    return ""


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


def entry_receiver(entry: tuple[Any, ...]) -> Any:
    """The receiver of a ``Signal.receivers`` entry, or None if it was collected."""
    ref = entry[1]
    return ref() if isinstance(ref, weakref.ReferenceType) else ref


def _live_entry(entry: tuple[Any, ...]) -> bool:
    """Whether Django would still call the receiver of a ``Signal.receivers`` entry: its weak
    reference is alive and, on Django 6 (4-tuples), so is the weak reference to its sender."""
    if isinstance(entry[1], weakref.ReferenceType) and entry[1]() is None:
        return False
    sender = entry[2] if len(entry) == 4 else None
    return not (isinstance(sender, weakref.ReferenceType) and sender() is None)


#: What :func:`mute` took out of a signal: ``(index in Signal.receivers, the entry itself)``.
Taken = list[tuple[int, tuple[Any, ...]]]


def mute(signal: Signal, matches: Callable[[Any], bool]) -> Taken:
    """Take the entries of the live receivers that ``matches`` out of ``signal.receivers``, as
    they are: a weak reference stays a weak reference (the receiver can still be collected), the
    lookup key (``dispatch_uid``) is kept. Not a ``disconnect()``: the registry keeps their
    connections (:func:`registry.note_muted`). Returns what :func:`unmute` puts back.

    Done under ``signal.lock`` as Django's own ``connect()``/``disconnect()`` change the list: dead
    entries are swept first (so the indexes are of the list Django would use), the list is
    replaced rather than changed in place, and the per-sender cache is cleared."""
    with signal.lock:
        signal._clear_dead_receivers()  # type: ignore[attr-defined]
        kept: list[Any] = []
        taken: Taken = []
        for index, entry in enumerate(signal.receivers):
            receiver = entry_receiver(entry)
            if receiver is not None and matches(receiver):
                taken.append((index, entry))
            else:
                kept.append(entry)
        if taken:
            signal.receivers = kept
            signal.sender_receivers_cache.clear()
            registry.note_muted(signal, [entry[0] for _index, entry in taken])
    return taken


def unmute(signal: Signal, taken: Taken) -> None:
    """Put back what :func:`mute` took, each entry at its old index (or at the end, when the list
    got shorter), in the old order. An entry is not put back when Django would no longer call its
    receiver: it was collected (or, on Django 6, its sender was), ``disconnect()`` was called for
    it meanwhile, or its lookup key was connected anew meanwhile (Django keeps one entry per
    key)."""
    with signal.lock:
        dropped = registry.note_unmuted(signal, [entry[0] for _index, entry in taken])
        receivers = list(signal.receivers)
        for index, entry in taken:
            key = entry[0]
            if key in dropped or not _live_entry(entry) or any(e[0] == key for e in receivers):
                continue
            receivers.insert(min(index, len(receivers)), entry)
        signal.receivers = receivers
        signal.sender_receivers_cache.clear()


# -- recorded dispatch -------------------------------------------------------------------------


def _is_djangos(function: Any, name: str) -> bool:
    """Whether ``function`` is ``Signal.<name>`` as Django defines it (not another library's
    patch, even one made with ``functools.wraps``, which leaves ``__wrapped__``)."""
    return (
        type(function) is types.FunctionType
        and function.__module__ == dispatcher.__name__
        and function.__qualname__ == f"Signal.{name}"
        and "__wrapped__" not in function.__dict__
    )


def _make_send(robust: bool, replaced: Any) -> Callable[..., Any]:
    """The recorded ``send`` (``robust=False``) or ``send_robust``: one function body for both.

    A context that records nothing runs the same body without rows, as long as the method it
    replaced is Django's own: Django's code in one frame, as Django runs it, so a recursion of
    sends reaches the same depth as without the package. When it replaced another library's
    patch, that patch is called."""
    name = "send_robust" if robust else "send"
    # Django's function, when ``replaced`` is it; None (always call it) when it is a patch.
    djangos = replaced if _is_djangos(replaced, name) else None
    kind = _KIND[robust, False]
    baseline = _baseline
    get_state = _get_state
    set_state = _state.set
    reset_state = _state.reset
    begin_call = rows.begin_call
    end_call = rows.end_call
    note_return = rows.note_return
    weak_type = naming._weak
    described = naming._receivers
    describe = naming.receiver_info
    new_row = rows.new_call_row
    MethodType = types.MethodType
    perf_ns = rows._perf_ns

    def send(self: Signal, sender: Any, **named: Any) -> Any:
        current = get_state()
        if current:
            one = current[0][0] if len(current) == 1 else None
            records = one is None or (one.active and id(self) not in one.ignored)
        else:
            one, records = None, False
        if not records and baseline[name] is not djangos:
            return baseline[name](self, sender, **named)
        # Django's own checks, in its order: the sender is hashed only when there are receivers.
        if not self.receivers or self.sender_receivers_cache.get(sender) is _NO_RECEIVERS:
            if not records:
                return []
            if one is not None:
                # A send that continues a quiet run is counted here: most sends of a request
                # reach no receiver. (rows.quiet_send does the same, and starts runs.)
                text: tuple[str, ...] = ()
                for value in named.values():
                    if type(value) is str:
                        text += (value,)
                run = one.quiet_runs.get((id(self), id(sender), id(current[0][1]), text))
                if run is not None and (
                    run[1] is sender or (type(run[1]) is weak_type and run[1]() is sender)
                ):
                    run[0][S_QUIET] += 1
                    one.quiet_sends += 1
                    return []
            rows.quiet_send(current, self, sender, named, kind)
            return []
        responses: list[tuple[Any, Any]] = []
        sync_receivers, async_receivers = self._live_receivers(sender)
        if not sync_receivers and not async_receivers:
            if records:
                rows.quiet_send(current, self, sender, named, kind)
            return responses
        sends = rows.open_send(current, self, sender, named, kind) if records else None
        # One recording with room: its call rows are written here, the clock read once per
        # receiver: the first call starts with the send, each next one where the one before
        # ended, sharing that int. Anything else goes through rows.begin_call/end_call.
        tape = current[0][0] if sends and len(current) == 1 and sends[0] else None
        if tape is not None:
            send_row, origin, call_rows = sends[0], tape.started_ns, tape.call_rows  # type: ignore[index]
            stored_before = len(call_rows)
            start_at = send_row[S_START]
        try:
            for receiver in sync_receivers:
                row = started = token = None
                if tape is not None:
                    # rows.begin_call for the one recording, written out: it runs per call.
                    target = receiver.__func__ if type(receiver) is MethodType else receiver
                    entry = described.get(id(target))
                    info = (
                        entry[1]
                        if entry is not None and entry[0]() is target
                        else describe(receiver)
                    )
                    if not info.observer and tape.call_room > 0 and not tape.receiver_patterns:
                        tape.call_room -= 1
                        tape.call_count += 1
                        row = new_row()
                        row[C_SEND] = send_row
                        row[C_INFO] = info
                        row[C_START] = start_at
                        call_rows.append(row)
                        token = set_state(((tape, row),))
                if row is None and sends:
                    started = begin_call(current, sends, receiver, False)
                    if started is not None:
                        token = set_state(started[0])
                try:
                    response = receiver(signal=self, sender=sender, **named)
                except BaseException as err:
                    swallowed = robust and issubclass(type(err), Exception)
                    if token is not None:
                        reset_state(token)
                    if row is not None:
                        start_at = perf_ns() - origin
                        row[C_END] = start_at
                        rows.note_error(row, err, swallowed)
                    elif started is not None:
                        end_call(current, started[1], err, swallowed)
                    if row is None and tape is not None:  # the next call starts now
                        start_at = perf_ns() - origin
                    if not swallowed:
                        raise
                    self._log_robust_failure(receiver, err)  # type: ignore[attr-defined]
                    responses.append((receiver, err))
                    continue
                if token is not None:
                    reset_state(token)
                if row is not None:
                    start_at = perf_ns() - origin
                    row[C_END] = start_at
                    if response is not None:
                        note_return(row, response)
                elif started is not None:
                    end_call(current, started[1], None, False)
                    if response is not None:
                        _note_returns(started[1], response)
                if row is None and tape is not None:  # the next call starts now
                    start_at = perf_ns() - origin
                responses.append((receiver, response))
            if async_receivers:
                responses.extend(
                    _async_from_sync(self, sender, named, async_receivers, robust, current, sends)
                )
        finally:
            if tape is not None:
                # The send ended when its last receiver did (the int that call's row holds),
                # unless async receivers ran after them.
                send_row[S_END] = perf_ns() - origin if async_receivers else start_at
                if len(call_rows) == stored_before and not async_receivers:
                    # Every receiver was the toolbar's own (or ignored): quiet for the project.
                    send_row[S_QUIET] = 1
            elif sends:
                rows.close_send_in(current, sends)
        return responses

    return send


class _RecordedAwaitable:
    """Awaits an async receiver's awaitable step by step, naming its call in the context state
    during each step only.

    Setting the state once for the whole await would leak it to sibling receivers that share the
    ``Context`` (Django 6's ``_run_parallel``), and to the caller when Django copies that context
    back. Per step, the value is always put back before another task can run.
    """

    __slots__ = ("_coro", "_current", "_robust", "_start")

    def __init__(
        self,
        coro: Any,
        start: Callable[[], tuple[State, list[Any]] | None],
        current: State,
        robust: bool,
    ):
        self._coro = coro
        self._start = start
        self._current = current
        self._robust = robust

    def __await__(self) -> Generator[Any, Any, Any]:
        coro, current = self._coro, self._current
        started = self._start()
        call_state = started[0] if started is not None else current
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
                if started is not None:
                    rows.end_call(current, started[1], None, False)
                    if stop.value is not None:
                        _note_returns(started[1], stop.value)
                return stop.value
            except BaseException as err:
                _state.reset(token)
                if started is not None:
                    swallowed = self._robust and issubclass(type(err), Exception)
                    rows.end_call(current, started[1], err, swallowed)
                raise
            _state.reset(token)
            try:
                to_send = yield yielded
            except GeneratorExit:
                coro.close()
                raise
            except BaseException as err:
                to_send, to_throw = None, err


async def _await(awaitable: Awaitable[Any]) -> Any:
    return await awaitable


def stepped(awaitable: Any) -> Any:
    """A coroutine :class:`_RecordedAwaitable` can step through: the receiver's own coroutine, or
    one awaiting whatever else it returned (a Future, a Task, any awaitable), failing as
    ``await`` does if it is not awaitable."""
    if type(awaitable) is types.CoroutineType:
        return awaitable
    return _await(awaitable)


def _async_call(
    signal: Signal,
    sender: Any,
    named: dict[str, Any],
    receiver: Any,
    robust: bool,
    current: State,
    sends: list[Any] | None,
) -> Any:
    """Call an async receiver as Django does, returning an awaitable that records the call."""

    def start() -> tuple[State, list[Any]] | None:
        return rows.begin_call(current, sends, receiver, True) if sends else None

    try:
        awaitable = receiver(signal=signal, sender=sender, **named)
    except BaseException as err:
        # The receiver failed before returning an awaitable: record that as its call.
        started = start()
        if started is not None:
            rows.end_call(current, started[1], err, robust and issubclass(type(err), Exception))
        raise
    return _RecordedAwaitable(stepped(awaitable), start, current, robust)


def _async_group(
    signal: Signal,
    sender: Any,
    named: dict[str, Any],
    receivers: list[Any],
    robust: bool,
    current: State,
    sends: list[Any] | None,
) -> Awaitable[list[Any]]:
    """The async receivers run concurrently, as Django runs them."""
    if not robust:
        return _parallel(
            *(_async_call(signal, sender, named, r, False, current, sends) for r in receivers)
        )

    async def asend_and_wrap_exception(receiver: Any) -> Any:
        try:
            response = await _async_call(signal, sender, named, receiver, True, current, sends)
        except Exception as err:
            signal._log_robust_failure(receiver, err)  # type: ignore[attr-defined]
            return err
        return response

    return _parallel(*(asend_and_wrap_exception(r) for r in receivers))


def _async_from_sync(
    signal: Signal,
    sender: Any,
    named: dict[str, Any],
    receivers: list[Any],
    robust: bool,
    current: State,
    sends: list[Any] | None,
) -> Any:
    """Async receivers of a sync send, run as Django runs them: one ``async_to_sync`` call."""

    async def asend() -> Any:
        responses = await _async_group(signal, sender, named, receivers, robust, current, sends)
        return zip(receivers, responses, strict=False)

    return async_to_sync(asend)()


def _run_sync(
    signal: Signal,
    sender: Any,
    named: dict[str, Any],
    receivers: list[Any],
    robust: bool,
    current: State,
    sends: list[Any] | None,
) -> list[tuple[Any, Any]]:
    """The sync group of ``asend``/``asend_robust`` (run in a worker thread), each call recorded."""
    responses = []
    for receiver in receivers:
        started = rows.begin_call(current, sends, receiver, False) if sends else None
        token = _state.set(started[0]) if started is not None else None
        try:
            response = receiver(signal=signal, sender=sender, **named)
        except BaseException as err:
            swallowed = robust and issubclass(type(err), Exception)
            if started is not None:
                _state.reset(token)  # type: ignore[arg-type]
                rows.end_call(current, started[1], err, swallowed)
            if not swallowed:
                raise
            signal._log_robust_failure(receiver, err)  # type: ignore[attr-defined]
            responses.append((receiver, err))
            continue
        if started is not None:
            _state.reset(token)  # type: ignore[arg-type]
            rows.end_call(current, started[1], None, False)
            if response is not None:
                _note_returns(started[1], response)
        responses.append((receiver, response))
    return responses


def _note_returns(calls: list[Any], response: object) -> None:
    """Note what a receiver returned on each of its call rows (Django ignores what receivers of
    model signals return; a receiver returning False to stop a save is a problem to show)."""
    for row in calls:
        if row is not None:
            rows.note_return(row, response)


async def _asend(signal: Signal, sender: Any, named: dict[str, Any], robust: bool) -> Any:
    current = _get_state()
    if not current:
        return await _baseline["asend_robust" if robust else "asend"](signal, sender, **named)
    kind = _KIND[robust, True]
    if not signal.receivers or signal.sender_receivers_cache.get(sender) is _NO_RECEIVERS:
        rows.quiet_send(current, signal, sender, named, kind)
        return []
    sync_receivers, async_receivers = signal._live_receivers(sender)
    if not sync_receivers and not async_receivers:
        rows.quiet_send(current, signal, sender, named, kind)
    sends = (
        rows.open_send(current, signal, sender, named, kind)
        if sync_receivers or async_receivers
        else None
    )
    try:
        if sync_receivers:

            @sync_to_async
            def sync_send() -> list[tuple[Any, Any]]:
                return _run_sync(signal, sender, named, sync_receivers, robust, current, sends)

        else:

            async def sync_send() -> list[tuple[Any, Any]]:
                return []

        responses, async_responses = await _sync_then_async(
            sync_send(),
            lambda: _async_group(signal, sender, named, async_receivers, robust, current, sends),
        )
        responses.extend(zip(async_receivers, async_responses, strict=False))
        return responses
    finally:
        if sends:
            rows.close_send_in(current, sends)


def _make_recorded() -> dict[str, Any]:
    django = {name: Signal.__dict__[name] for name in ("send", "send_robust", "asend")}
    django["asend_robust"] = Signal.__dict__["asend_robust"]
    send = functools.wraps(django["send"])(_make_send(False, django["send"]))
    send_robust = functools.wraps(django["send_robust"])(_make_send(True, django["send_robust"]))

    @functools.wraps(django["asend"])
    async def asend(self: Signal, sender: Any, **named: Any) -> Any:
        return await _asend(self, sender, named, False)

    @functools.wraps(django["asend_robust"])
    async def asend_robust(self: Signal, sender: Any, **named: Any) -> Any:
        return await _asend(self, sender, named, True)

    recorded = {
        "send": send,
        "send_robust": send_robust,
        "asend": asend,
        "asend_robust": asend_robust,
    }
    for method in recorded.values():
        setattr(method, _MARK, True)
    return recorded


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


def _alive(ref: Any) -> bool:
    """Whether a ``Signal.receivers`` entry's receiver is alive (a dead weak one is swept out by
    the next connect(), and its key may be a new receiver's)."""
    return not isinstance(ref, naming._weak) or ref() is not None


def _wrap_connect(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def connect(self: Signal, *args: Any, **kwargs: Any) -> Any:
        try:
            receiver, sender, weak, dispatch_uid = _connect_args(*args, **kwargs)
            key = _lookup_key(receiver, sender, dispatch_uid)
            # Django ignores a connect() whose lookup key is connected already (compared as
            # Django's connect() compares them): nothing happens, nothing to note.
            known = any(entry[0] == key and _alive(entry[1]) for entry in self.receivers)
        except Exception:
            known = True
        result = original(self, *args, **kwargs)
        if known:
            return result
        try:
            site = naming.connect_site()
            location = site[0]
            registry.note_connect(
                self,
                receiver,
                key,
                weak,
                dispatch_uid,
                location.split(" in ", 1)[0],
                sender=sender,
                # While a module is imported, or before the app registry is ready (an
                # AppConfig.ready()): a receiver meant to live as long as the process.
                start_up=site[1] or not _apps.ready,
            )
            rows.note_connection("connect", self, receiver, site)
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
                rows.note_connection("disconnect", self, receiver)
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
    listed = []
    for lookup_key, receiver, weak, is_async in receiver_entries(signal):
        connection = registry.connection_for(signal, lookup_key)
        if receiver is None:
            name, definition = (
                (connection.receiver_name, connection.definition)
                if connection
                else ("<collected>", "?")
            )
        else:
            info = naming.receiver_info(receiver)
            name, definition = info.name, info.location
            if not is_async:
                is_async = iscoroutinefunction(receiver)
        sender_id = (
            lookup_key[1] if isinstance(lookup_key, tuple) and len(lookup_key) == 2 else None
        )
        listed.append(
            {
                "receiver": name,
                "definition": definition,
                "connected_at": connection.location if connection else None,
                "dispatch_uid": connection.dispatch_uid if connection else None,
                "sender_filter": sender_id != dispatcher.NONE_ID,
                "sender": connection.sender
                if connection and connection.sender
                else sender_of(signal, lookup_key),
                "weak": weak,
                "is_async": is_async,
                "dead": receiver is None,
            }
        )
    return listed


def install() -> None:
    """Wrap ``connect``/``disconnect``/``__init__``; prepare the recorded send methods.

    Idempotent: a marker on the wrapped ``connect`` says it was done."""
    if getattr(Signal.__dict__.get("connect"), _MARK, False):
        return
    for name, method in _make_recorded().items():
        methods.add(name, Signal, name, method)
    Signal.connect = _wrap_connect(Signal.__dict__["connect"])  # type: ignore[method-assign]
    Signal.disconnect = _wrap_disconnect(Signal.__dict__["disconnect"])  # type: ignore[method-assign]
    Signal.__init__ = _wrap_init(Signal.__dict__["__init__"])  # type: ignore[method-assign]
    registry.register_library(
        registry.Library(name="django", signal_types=(Signal,), list_receivers=_list_receivers)
    )
