"""The recorder's hot path: the recorded Django ``Signal.send``/``send_robust`` and blinker
``Signal.send`` for the case every recorded request runs (one recording active in the context,
with room left), their receiver loops, the two things they take at send time (the call site and
the snapshot of kwargs), and :class:`Tape`, the part of a recording they write.

It may not count on its own frames: :func:`find_callsite` walks from whatever frame is on top
and passes over every frame of this package.
"""

from __future__ import annotations

import functools
import sys
import types
from asyncio import _get_running_loop
from collections.abc import Callable
from inspect import iscoroutinefunction
from threading import get_ident
from typing import Any

from django.dispatch import dispatcher

from signal_panel import _describe
from signal_panel._context import (
    C_DURATION,
    C_START,
    CURSOR_CALL,
    CURSOR_OUTER,
    CURSOR_OWNER,
    S_DURATION,
    S_PARENT,
    S_START,
    _in_atomic,
    _perf_ns,
    _state,
    note_error,
)

__all__ = [
    "Tape",
    "append_send",
    "cursor_for",
    "find_callsite",
    "make_send",
    "pack_kwargs",
    "record_blinker_send",
    "run_blinker_one",
    "run_sync_one",
    "shared_keys",
    "snapshot",
]

_getframe = sys._getframe
_NO_RECEIVERS = dispatcher.NO_RECEIVERS
# _describe's caches and constants (its dicts are only ever changed in place).
_MISSING = _describe._MISSING
_library_files = _describe._library_files
_take = _describe._take
_by_function = _describe.by_function
_COPY = _describe._COPY
_SNAPSHOT_LIMIT = _describe._SNAPSHOT_LIMIT
_TOOK_PK = _describe._TOOK_PK
_TOOK_COPY = _describe._TOOK_COPY
_TOOK_SUMMARY = _describe._TOOK_SUMMARY
#: One tuple per set of kwarg names seen, shared by the rows of every send that used it.
_key_tuples: dict[tuple[str, ...], tuple[str, ...]] = {}
_KEY_TUPLES_LIMIT = 4096


class Tape:
    """What the hot path writes of a recording (the base class of
    :class:`~signal_panel.recording.Recording`): the rows, the counters, and the settings it
    reads per send. Compiled, an extension type whose fields the compiled path reads directly."""

    __slots__ = (
        "_call_rows",
        "_callsites",
        "_ignoring",
        "_max_calls",
        "_send_rows",
        "call_count",
        "dropped_calls",
        "started_ns",
    )

    def __init__(self) -> None:
        # Rows of SEND_FIELDS / CALL_FIELDS values; a send's or call's handle is where its row
        # starts.
        self._send_rows: list[Any] = []
        self._call_rows: list[Any] = []
        #: Receiver calls made, stored or not.
        self.call_count = 0
        #: Receiver calls made but not stored because ``MAX_CALLS`` was reached.
        self.dropped_calls = 0
        self.started_ns = 0
        # From the recording's Config: MAX_CALLS, CAPTURE_CALLSITE, whether IGNORE_SIGNALS is set.
        self._max_calls = 0
        self._callsites = False
        self._ignoring = False


def shared_keys(named: dict[str, Any]) -> tuple[str, ...]:
    """The names of ``named``, as the tuple every send with these names shares."""
    keys = tuple(named)
    shared = _key_tuples.get(keys)
    if shared is None:
        if len(_key_tuples) > _KEY_TUPLES_LIMIT:
            _key_tuples.clear()
        _key_tuples[keys] = shared = keys
    return shared


def pack_kwargs(named: dict[str, Any]) -> tuple[tuple[str, ...] | None, tuple[Any, ...] | None]:
    """``(names, values)`` of the kwargs as a send's row keeps them: a tuple of values takes a
    third of the memory of the dict it came from, and the names are shared."""
    if not named:
        return None, None
    return shared_keys(named), tuple(named.values())


def find_callsite() -> tuple[types.CodeType, int] | None:
    """The code and the offset of the last instruction (``f_lasti``) of the first frame outside
    the instrumented libraries (the standard library, Django, asgiref, the toolbar, blinker and
    this package) on the current stack.

    Returns raw material only because it runs on every recorded send: the offset is turned into a
    line when read (:func:`~signal_panel._describe.format_callsite`).
    """
    frame: types.FrameType | None = _getframe(0)
    while frame is not None:
        code = frame.f_code
        library = _library_files.get(code.co_filename)
        if library is None:
            library = _describe.is_library_file(code.co_filename)
        if not library:
            return code, frame.f_lasti
        frame = frame.f_back
    return None


def snapshot(named: dict[str, Any]) -> tuple[Any, ...] | None:
    """What of ``named`` must be taken at send time, because it changes as the chain runs:
    ``(name, how, value, name, how, value, ...)``, or None when nothing must.

    Everything else is summarised later, when read. A model instance's primary key (None in
    ``pre_save`` of a new row) is taken; a mutable container is copied (``Model.__init__`` empties
    the ``kwargs`` dict ``pre_init`` was sent, for example), or summarised at once when it is
    longer than a summary shows. Runs on every recorded send: one type lookup per value.
    """
    taken: tuple[Any, ...] | None = None
    for key, value in named.items():
        kind = type(value)
        how = _take.get(kind, _MISSING)
        if how is _MISSING:
            how = _describe.how_to_take(value)
        if how is None:
            continue
        if how is _COPY:
            if len(value) <= _SNAPSHOT_LIMIT:
                took: tuple[Any, ...] = (key, _TOOK_COPY, kind(value))
            else:
                took = (key, _TOOK_SUMMARY, _describe.summarize(value, 200))
        else:
            took = (key, _TOOK_PK, value.__dict__.get(how))
        taken = took if taken is None else taken + took
    return taken


def cursor_for(rec: Any, send: int, position: Any) -> list[Any] | None:
    """The :data:`~signal_panel._context.Cursor` a sync receiver loop moves, for the send whose
    row starts at ``send``: None where an event loop runs (the state is then set per receiver),
    this thread's own cursor when the state entry ``position`` is one, else a new one, which the
    loop sets in the state for the length of the send."""
    if _get_running_loop() is not None:
        return None
    if type(position) is list and position[CURSOR_OWNER] == get_ident():
        return position
    return [None, rec._send_rows[send + S_PARENT], get_ident()]


def run_sync_one(
    signal: Any,
    sender: Any,
    named: dict[str, Any],
    receivers: list[Any],
    robust: bool,
    rec: Any,
    send: int,
    position: Any,
    times_send: bool,
) -> list[tuple[Any, Any]]:
    """Django's sync receiver loop for one active recording, each call recorded; ``position``
    is the recording's entry in the context state. With ``times_send``, the loop's start and
    length are the send's.

    The clock is read once per receiver: a call starts where the one before it ended (so the
    few hundred nanoseconds of bookkeeping between two receivers count towards the second).

    Where no event loop runs in this thread, the context state names the running call through a
    :data:`~signal_panel._context.Cursor`: this thread's own cursor when the state holds one
    (moved, then put back), else a new one set for the send. Where a loop runs, the state is set
    per receiver, so that a task a receiver starts nests under it.
    """
    responses = []
    origin = rec.started_ns
    limit = rec._max_calls
    rows = rec._call_rows
    send_rows = rec._send_rows
    token: Any = None
    loop_token: Any = None
    cursor = cursor_for(rec, send, position)
    if cursor is not None and cursor is not position:
        loop_token = _state.set(((rec, cursor),))
    found = cursor[CURSOR_CALL] if cursor is not None else None
    start = first = _perf_ns()
    # The first call starts with the send: one int for both.
    start_at: Any = first - origin
    if times_send:
        send_rows[send + S_START] = start_at
    try:
        for receiver in receivers:
            rec.call_count += 1
            if rec.call_count > limit:
                rec.dropped_calls += 1
                if cursor is not None:
                    cursor[CURSOR_CALL] = found
                responses.append((receiver, receiver(signal=signal, sender=sender, **named)))
                start, start_at = _perf_ns(), None
                continue
            # describe_receiver()'s cache for plain functions, read inline.
            entry = _by_function.get(id(receiver))
            if entry is not None and entry[0]() is receiver:
                info = entry[1]
            else:
                info = _describe.describe_receiver(receiver)
            if start_at is None:
                start_at = start - origin
            call = len(rows)
            rows += (send, info, False, start_at, 0, None, False, None)
            if cursor is not None:
                cursor[CURSOR_CALL] = call
            else:
                token = _state.set(((rec, call),))
            try:
                response = receiver(signal=signal, sender=sender, **named)
            except BaseException as err:
                end = _perf_ns()
                if cursor is None:
                    _state.reset(token)
                rows[call + C_DURATION] = end - start
                start, start_at = end, None
                swallowed = robust and isinstance(err, Exception)
                note_error(rec, call, err, swallowed)
                if not swallowed:
                    raise
                signal._log_robust_failure(receiver, err)
                responses.append((receiver, err))
                continue
            end = _perf_ns()
            if cursor is None:
                _state.reset(token)
            rows[call + C_DURATION] = end - start
            start, start_at = end, None
            responses.append((receiver, response))
    finally:
        if times_send:
            send_rows[send + S_DURATION] = start - first
        if cursor is not None:
            cursor[CURSOR_CALL] = found
        if loop_token is not None:
            _state.reset(loop_token)
    return responses


def append_send(
    rec: Any, signal: Any, label: Any, named: dict[str, Any], position: Any, kind: Any
) -> int:
    """Append a send's row to ``rec`` (the one active recording, with room left); return its
    handle. Start and duration are left at 0 for the receiver loop to set."""
    callsite = find_callsite() if rec._callsites else None
    # recording.current(position), inline.
    if type(position) is list:
        parent = position[CURSOR_CALL]
        if parent is None:
            parent = position[CURSOR_OUTER]
    else:
        parent = position
    rows = rec._send_rows
    at = len(rows)
    rows += (
        signal,
        label,
        shared_keys(named) if named else None,
        tuple(named.values()) if named else None,
        snapshot(named) if named else None,
        parent,
        kind,
        callsite[0] if callsite is not None else None,
        callsite[1] if callsite is not None else 0,
        0,
        0,
        _in_atomic(named["using"]) if "using" in named else None,
    )
    return at


def record_blinker_send(
    signal: Any,
    sender: Any,
    async_wrapper: Any,
    kwargs: dict[str, Any],
    entry: tuple[Any, Any],
    kind: Any,
) -> list[tuple[Any, Any]] | None:
    """blinker's ``send`` for one active recording (``entry`` is its state entry) with room left
    and an unmuted signal, recorded; None when the instrumentation's general path must run
    instead (the recording is full or ignores signals, or the sender is the toolbar's own)."""
    rec, position = entry
    if rec.call_count >= rec._max_calls or rec._ignoring:
        return None
    label = _describe.fast_sender_label(sender, rec.config.summary_length)
    if label is None:
        return None
    at = append_send(rec, signal, label, kwargs, position, kind)
    rec._send_rows[at + S_START] = _perf_ns() - rec.started_ns
    return run_blinker_one(signal, sender, async_wrapper, kwargs, rec, at, position)


def run_blinker_one(
    signal: Any,
    sender: Any,
    async_wrapper: Any,
    kwargs: dict[str, Any],
    rec: Any,
    send: int,
    position: Any,
) -> list[tuple[Any, Any]]:
    """blinker's sync receiver loop for one active recording, each call recorded: the same
    bookkeeping as :func:`run_sync_one` in blinker's calling convention (see it, and
    :data:`~signal_panel._context.Cursor`)."""
    origin = rec.started_ns
    limit = rec._max_calls
    rows = rec._call_rows
    token: Any = None
    loop_token: Any = None
    cursor = cursor_for(rec, send, position)
    if cursor is not None and cursor is not position:
        loop_token = _state.set(((rec, cursor),))
    found = cursor[CURSOR_CALL] if cursor is not None else None
    try:
        results = []
        for receiver in signal.receivers_for(sender):
            is_async = iscoroutinefunction(receiver)
            rec.call_count += 1
            if rec.call_count > limit:
                rec.dropped_calls += 1
                call = None
            else:
                entry = _by_function.get(id(receiver))
                if entry is not None and entry[0]() is receiver:
                    info = entry[1]
                else:
                    info = _describe.describe_receiver(receiver)
                call = len(rows)
                rows += (send, info, is_async, 0, 0, None, False, None)
            if cursor is not None:
                cursor[CURSOR_CALL] = call if call is not None else found
            else:
                token = _state.set(((rec, call),))
            start = _perf_ns()
            try:
                if is_async:
                    if async_wrapper is None:
                        raise RuntimeError("Cannot send to a coroutine function.")
                    result = async_wrapper(receiver)(sender, **kwargs)
                else:
                    result = receiver(sender, **kwargs)
            except BaseException as err:
                end = _perf_ns()
                if cursor is None:
                    _state.reset(token)
                if call is not None:
                    rows[call + C_START] = start - origin
                    rows[call + C_DURATION] = end - start
                    note_error(rec, call, err, False)
                raise
            end = _perf_ns()
            if cursor is None:
                _state.reset(token)
            if call is not None:
                rows[call + C_START] = start - origin
                rows[call + C_DURATION] = end - start
            results.append((receiver, result))
        return results
    finally:
        if cursor is not None:
            cursor[CURSOR_CALL] = found
        if loop_token is not None:
            _state.reset(loop_token)
        send_rows = rec._send_rows
        send_rows[send + S_DURATION] = _perf_ns() - origin - send_rows[send + S_START]


def make_send(
    robust: bool,
    django_method: Callable[..., Any],
    baseline: dict[str, Callable[..., Any]],
    send_general: Callable[..., Any],
    async_from_sync: Callable[..., Any],
    kind: tuple[str, bool, bool],
) -> Callable[..., Any]:
    """The recorded ``send`` (or ``send_robust``).

    One active recording with room left is the case that runs per request, so it is written out
    here in full; anything else goes to ``send_general`` (the instrumentation's general path),
    and a context that records nothing to Django's own method in ``baseline``.
    """
    name = "send_robust" if robust else "send"
    labels = _describe._model_labels
    sender_label = _describe.fast_sender_label

    @functools.wraps(django_method)
    def send(self: Any, sender: Any, **named: Any) -> Any:
        state = _state.get()
        if len(state) != 1:
            if not state:
                return baseline[name](self, sender, **named)
            return send_general(self, sender, named, robust, state)
        rec, position = state[0]
        if rec.call_count >= rec._max_calls or rec._ignoring or "signal" in named:
            # A ``signal`` kwarg makes Django's receiver call fail: let Django's loop say how.
            return send_general(self, sender, named, robust, state)
        try:
            label = labels.get(sender, _MISSING)
        except TypeError:  # an unhashable sender
            label = _MISSING
        if label is _MISSING:
            label = sender_label(sender, rec.config.summary_length)
        if label is None:  # the toolbar's own models
            return baseline[name](self, sender, **named)
        at = append_send(rec, self, label, named, position, kind)
        rows = rec._send_rows
        if not self.receivers or self.sender_receivers_cache.get(sender) is _NO_RECEIVERS:
            rows[at + S_START] = _perf_ns() - rec.started_ns
            return []
        sync_receivers, async_receivers = self._live_receivers(sender)
        responses = run_sync_one(
            self, sender, named, sync_receivers, robust, rec, at, position, True
        )
        if async_receivers:
            try:
                responses.extend(
                    async_from_sync(self, sender, named, async_receivers, robust, state, [at])
                )
            finally:
                rows[at + S_DURATION] = _perf_ns() - rec.started_ns - rows[at + S_START]
        return responses

    return send
