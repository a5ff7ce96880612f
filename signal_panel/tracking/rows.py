"""The rows a recording is made of, and their only writer.

A recording's writable part is a :class:`Tape`: one list of send rows and one of receiver-call
rows, in the order they started, plus counters. A row is a plain ``list`` of the fields named by
the ``S_*`` and ``C_*`` constants; it holds builtin values, strings, tuples of those, the signal
(which lives as long as its module), the row of its parent call and, in a call row, its send's
row. It never holds a sender, a receiver or an argument of the program: those are described at
send time by :mod:`signal_panel.naming` (which runs none of their code).

Rows are appended whole with ``list.append`` and fields are then set by index, so a recording
written by several threads at once (``sync_to_async(thread_sensitive=False)``) stays readable:
each row is complete, and a row's parent is the row object itself, not a position.

Which call is running is kept in one ``ContextVar``, :data:`state`: a tuple with one
``(tape, current call row or None)`` pair per recording active in the context. It is only set
around synchronous stretches (one sync receiver, one step of an async receiver's coroutine) and
always reset with its token before the stretch ends, so it never leaks to the caller through
``asgiref``'s or Django 6's context copying.

Sends that reach no receiver are folded: the alike ones (the same signal, sender, parent call and
text arguments) are one row, at the place of the first, whose ``S_QUIET`` field counts them,
however many sends that reach receivers come between them. So a streamed queryset (``pre_init``
and ``post_init`` per row) stores two rows, not two per instance, and a loop of ``create()``
calls stores its ``pre_init``, ``post_init`` and quiet ``post_save`` once each.

Every function here is called while the program's send runs: none may raise (each falls back to
recording less) and none calls the program's code.
"""

from __future__ import annotations

import fnmatch
import threading
import time
import types
from asyncio import _get_running_loop
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from django.db import connections

from signal_panel import naming, registry

if TYPE_CHECKING:
    from signal_panel.conf import Config

__all__ = ["CallWork", "Hook", "Tape", "state"]

_perf_ns = time.perf_counter_ns
_KEPT = naming._KEPT
_snapshot = naming.snapshot
_sender_label = naming.sender_label
_find_callsite = naming.find_callsite
_receiver_info = naming.receiver_info
_receivers = naming._receivers
_MethodType = types.MethodType
_weak_type = naming._weak

# A send's row.
(
    S_SIGNAL,  # the signal
    S_SENDER,  # the sender's label (naming.sender_label)
    S_ARGS,  # (name, snapshot, name, snapshot, ...) of the kwargs, or None
    S_PARENT,  # the row of the receiver call it was sent from, or None
    S_KIND,  # (library, robust, is_async)
    S_CODE,  # call site: code object, or None
    S_LASTI,  # call site: instruction offset
    S_START,  # ns from the recording's start
    S_END,  # ns from the recording's start when it ended (0 until then): with one recording,
    # the int its last receiver call's C_END holds
    S_IN_ATOMIC,  # whether the ``using`` database was in atomic(), or None
    S_QUIET,  # 0, or the number of alike sends with no receiver this row stands for
) = range(11)

# A receiver call's row.
(
    C_SEND,  # the send's row
    C_INFO,  # naming.ReceiverInfo
    C_ASYNC,  # an async receiver
    C_START,  # ns from the recording's start
    C_END,  # ns from the recording's start when it ended (0 while it runs): the int the next
    # call's C_START shares (async: including the time suspended)
    C_ERROR,  # ("ExcType: message", whether send_robust/asend_robust caught it), or None
    C_WORK,  # CallWork, made on first use, or None
) = range(7)

#: ``((tape, current call row or None), ...)`` for every recording active in this context.
state: ContextVar[tuple[tuple[Tape, list[Any] | None], ...]] = ContextVar(
    "signal_panel_state", default=()
)
State = tuple[tuple["Tape", "list[Any] | None"], ...]


class CallWork:
    """What one receiver call did besides running: its queries, its ``on_commit`` callbacks and
    what it returned. Only made for a call that ran a query, used ``on_commit`` or returned
    something other than None."""

    __slots__ = ("hooks", "on_commit", "queries", "query_ns", "query_shapes", "returned")

    def __init__(self) -> None:
        self.queries = 0
        self.query_ns = 0
        self.query_shapes: dict[str, int] | None = None
        self.on_commit = 0
        #: The ``on_commit`` callbacks it registered, in order (see :class:`Hook`).
        self.hooks: list[Hook] | None = None
        #: What it returned (``naming.snapshot``), when that was not None.
        self.returned: Any = None


#: What became of an ``on_commit`` callback (:attr:`Hook.outcome`).
PENDING, RAN, DISCARDED, LOST, REFUSED = (
    "pending",  # queued, and still queued when the recording ended
    "ran",
    "discarded",  # the transaction (or savepoint) it was queued in rolled back
    "lost",  # an earlier callback of the same commit raised, and Django ran no more
    "refused",  # on_commit() raised (manual transaction management), so nothing was queued
)


class Hook:
    """One ``transaction.on_commit()`` callback a receiver call registered, and what became of it
    (written by :mod:`signal_panel.tracking.database`). Holds no reference to the callback: only
    its name and, while it is queued, its ``id()``."""

    __slots__ = (
        "alias",
        "duration_ns",
        "error",
        "func_id",
        "immediate",
        "name",
        "outcome",
        "robust",
        "started_ns",
        "swapped",
        "watchers",
        "where",
    )

    def __init__(self, name: str, alias: str, robust: bool) -> None:
        self.name = name
        self.alias = alias
        self.robust = robust
        self.outcome = PENDING
        #: Run at once by ``on_commit()`` itself: no transaction was open.
        self.immediate = False
        #: ``time.perf_counter_ns()`` when it started running, and how long it ran.
        self.started_ns = 0
        self.duration_ns = 0
        #: ``"ExcType: message"`` if it raised.
        self.error: str | None = None
        # While queued: a weak reference to the connection, and the id of the callback, which
        # finds Django's entry ``(savepoint ids, callback, robust)`` in its ``run_on_commit``.
        self.where: Any = None
        self.func_id = 0
        #: Put into Django's queue in our timing wrapper when the commit began running it.
        self.swapped = False
        #: Recordings still active that hold it (it is watched until the last one ends).
        self.watchers = 0


class Tape:
    """What tracking writes of one recording: the rows, the counters, and the settings it reads
    per send (the base class of :class:`~signal_panel.recording.Recording`)."""

    # Slots: the recorded send methods read and write these on every send and call.
    __slots__ = (
        "active",
        "call_count",
        "call_room",
        "call_rows",
        "callsites",
        "config",
        "connection_rows",
        "dropped_calls",
        "dropped_sends",
        "duration_ns",
        "events",
        "hooks",
        "ignored",
        "ignored_calls",
        "observer_calls",
        "quiet_runs",
        "quiet_sends",
        "receiver_patterns",
        "receiver_verdicts",
        "send_room",
        "send_rows",
        "show_observer",
        "started_ns",
        "summary_length",
    )

    def __init__(self, config: Config) -> None:
        self.config = config
        self.send_rows: list[list[Any]] = []
        self.call_rows: list[list[Any]] = []
        #: Receiver calls made, stored or not (the observer's own not included).
        self.call_count = 0
        #: Receiver calls made but not stored because ``MAX_CALLS`` was reached.
        self.dropped_calls = 0
        #: Sends made but not stored because ``MAX_SENDS`` was reached.
        self.dropped_sends = 0
        #: Sends that reached no receiver (stored folded, see ``S_QUIET``).
        self.quiet_sends = 0
        #: Calls of django-debug-toolbar's and this package's receivers, left out.
        self.observer_calls = 0
        #: Calls of receivers that ``IGNORE_RECEIVERS`` names, left out.
        self.ignored_calls = 0
        self.receiver_patterns = config.ignore_receivers
        # receiver name -> whether IGNORE_RECEIVERS names it
        self.receiver_verdicts: dict[str, bool] = {}
        #: ``(action, signal, receiver name, call site, ns, at start-up, by the project)`` of
        #: connect() and disconnect() calls.
        self.connection_rows: list[tuple[str, object, str, str, int, bool, bool]] = []
        #: Findings reported by tracking (bulk operations that skip receivers).
        self.events: list[dict[str, Any]] = []
        #: ``on_commit`` callbacks its calls registered that were queued in a transaction.
        self.hooks: list[Hook] = []
        self.started_ns = 0
        self.duration_ns = 0
        #: Accepts rows; False once stopped (a task that outlived it writes nothing more).
        self.active = False
        # Rows left before MAX_SENDS and MAX_CALLS are reached. Once either is, sends are
        # counted, not stored (a send stored without the calls it made would mislead).
        self.send_room = config.max_sends
        self.call_room = config.max_calls
        ignored = frozenset(
            id(signal) for signal in registry.resolve_signals(config.ignore_signals)[0]
        )
        self.ignored: frozenset[int] = (
            ignored if config.show_observer else ignored | registry.observer_signals()
        )
        self.show_observer = config.show_observer
        self.callsites = config.capture_callsite
        self.summary_length = config.summary_length
        # (id(signal), id(sender), id(parent), text arguments) -> (row, the sender or a weak
        # reference to it): the recording's quiet runs (see quiet_send), at most QUIET_RUNS.
        self.quiet_runs: dict[tuple[Any, ...], tuple[list[Any], Any]] = {}


#: In place of a send's row that MAX_CALLS left out: its calls are counted, not stored.
DROPPED: list[Any] = []


def _in_atomic(using: object) -> bool | None:
    """Whether the connection named ``using`` is inside ``transaction.atomic`` (a flag: no query).
    None when ``using`` names no database."""
    try:
        if type(using) is not str:
            return None
        # ``connections[using]`` goes through asgiref's Local, which asks asyncio for a running
        # loop by raising and catching an exception; in a thread with no loop, read the
        # connection from the thread-local storage behind it.
        if _get_running_loop() is None:
            storage = getattr(getattr(connections, "_connections", None), "_storage", None)
            if type(storage) is threading.local:
                connection = getattr(storage, using, None)
                if connection is not None:
                    return bool(connection.in_atomic_block)
        return bool(connections[using].in_atomic_block)
    except Exception:
        return None


def open_send(
    current: State, signal: object, sender: object, named: dict[str, Any], kind: object
) -> list[Any] | None:
    """Append a send's row to each recording of ``current`` that records it; return
    ``[row, DROPPED or None, ...]`` in the order of ``current``, or None when none does (or the
    sender is the debug toolbar's own model)."""
    try:
        label = _sender_label(sender)
        if label is None:  # naming.OBSERVER
            return None
        found: list[Any] = []
        taken: Taken | None = None
        stored = False
        for tape, parent in current:
            if not tape.active or id(signal) in tape.ignored:
                found.append(None)
                continue
            if tape.send_room <= 0 or tape.call_room <= 0:
                tape.dropped_sends += 1
                found.append(DROPPED)  # its calls are still counted
                stored = True
                continue
            tape.send_room -= 1
            if taken is None:
                taken = _take(tape, named)
            found.append(_send_row(tape, parent, signal, label, taken, kind, 0))
            stored = True
        return found if stored else None
    except Exception:
        return None


#: What :func:`_take` takes of a send, once for all its recordings: the kwargs' snapshots
#: (``(name, snapshot, ...)``), the call site, and whether ``using`` was in ``atomic()``.
Taken = tuple["tuple[Any, ...] | None", "tuple[Any, int] | None", "bool | None"]


def _take(tape: Tape, named: dict[str, Any]) -> Taken:
    args = None
    if named:
        limit = tape.summary_length
        flat: list[Any] = []
        for key, value in named.items():
            flat += (key, value if type(value) in _KEPT else _snapshot(value, limit))
        args = tuple(flat)
    in_atomic = _in_atomic(named["using"]) if "using" in named else None
    # Pass over this function, its caller here and the recorded send method at once.
    return args, _find_callsite(4) if tape.callsites else None, in_atomic


def _send_row(
    tape: Tape,
    parent: list[Any] | None,
    signal: object,
    label: str,
    taken: Taken,
    kind: object,
    quiet: int,
) -> list[Any]:
    """Append a send's row (the one place that writes one) and return it."""
    args, callsite, in_atomic = taken
    code, lasti = callsite if callsite is not None else (None, 0)
    row = [
        signal,
        label,
        args,
        parent,
        kind,
        code,
        lasti,
        _perf_ns() - tape.started_ns,
        0,
        in_atomic,
        quiet,
    ]
    tape.send_rows.append(row)
    return row


def close_send_in(current: State, rows: list[Any]) -> None:
    """Set the duration of the rows :func:`open_send` returned for a send whose context state
    was ``current``."""
    now = _perf_ns()
    for (tape, _parent), row in zip(current, rows, strict=False):
        if row:
            row[S_END] = now - tape.started_ns


def quiet_text(named: dict[str, Any]) -> tuple[str, ...]:
    """The text arguments of a send (``m2m_changed``'s ``action``), which sends of one quiet run
    share: ``pre_add`` and ``post_add`` are two runs, the rows of a stream one."""
    text: tuple[str, ...] = ()
    for value in named.values():
        if type(value) is str:
            text += (value,)
    return text


#: Quiet runs a recording keeps open, to fold the sends alike to theirs into them. Most are of
#: sends made inside one receiver call, which cannot continue once the call ended: past this
#: many, they are all let go (a few hundred kB at most).
QUIET_RUNS = 1000


def quiet_send(
    current: State, signal: object, sender: object, named: dict[str, Any], kind: object
) -> None:
    """Count a send that reached no receiver into each recording, folding a run of alike ones:
    the first send of a run is stored (with its arguments), the others only counted on it."""
    try:
        text = quiet_text(named)
        label: str | None = None
        taken: Taken | None = None
        for tape, parent in current:
            if not tape.active or id(signal) in tape.ignored:
                continue
            tape.quiet_sends += 1
            key = (id(signal), id(sender), id(parent), text)
            run = tape.quiet_runs.get(key)
            if run is not None:
                held = run[1]
                if held is sender or (type(held) is _weak_type and held() is sender):
                    run[0][S_QUIET] += 1
                    continue
            if label is None:
                label = _sender_label(sender)
            if label is None:  # naming.OBSERVER
                continue
            if tape.send_room <= 0 or tape.call_room <= 0:
                tape.dropped_sends += 1
                continue
            tape.send_room -= 1
            if taken is None:
                taken = _take(tape, named)
            row = _send_row(tape, parent, signal, label, taken, kind, 1)
            if sender is None or type(sender) in _KEPT:
                held = sender
            else:
                try:
                    held = _weak_type(sender)
                except TypeError:
                    continue  # cannot tell the next sender is this one: no run
            if len(tape.quiet_runs) >= QUIET_RUNS:
                tape.quiet_runs.clear()  # alike sends to come start new rows
            tape.quiet_runs[key] = (row, held)
    except Exception:
        pass


#: A call's row before its fields are set: :func:`new_call_row` copies it.
_CALL_ROW: list[Any] = [None, None, False, 0, 0, None, None]
#: A new call row, to be filled in by index (the recorded send methods write the rows of the
#: one recording of a context themselves, without a call per receiver).
new_call_row = _CALL_ROW.copy


def _ignores_receiver(tape: Tape, name: str) -> bool:
    verdict = tape.receiver_verdicts.get(name)
    if verdict is None:
        verdict = any(fnmatch.fnmatchcase(name, p) for p in tape.receiver_patterns)
        tape.receiver_verdicts[name] = verdict
    return verdict


def note_error(row: list[Any], error: BaseException, swallowed: bool) -> None:
    """Note on a call's row that the receiver raised ``error``."""
    row[C_ERROR] = (_error_text(error), swallowed)


def begin_call(
    current: State, sends: list[Any], receiver: object, is_async: bool
) -> tuple[State, list[Any]] | None:
    """Append a call's row to each recording that stored the send; return the context state to
    run the receiver in and ``[row or None, ...]``, or None when no recording stores the call
    (the receiver is the observer's own, or every recording is full)."""
    try:
        target = receiver.__func__ if type(receiver) is _MethodType else receiver
        entry = _receivers.get(id(target))
        info = entry[1] if entry is not None and entry[0]() is target else _receiver_info(receiver)
        now = _perf_ns()
        calls: list[Any] = []
        new_state: list[tuple[Tape, list[Any] | None]] = []
        stored = False
        for (tape, parent), send in zip(current, sends, strict=True):
            row = None
            if send is not None:
                if info.observer and not tape.show_observer:
                    tape.observer_calls += 1
                elif tape.receiver_patterns and _ignores_receiver(tape, info.name):
                    tape.ignored_calls += 1
                else:
                    tape.call_count += 1
                    if tape.call_room <= 0 or not tape.active or send is DROPPED:
                        tape.dropped_calls += 1
                    else:
                        tape.call_room -= 1
                        row = [send, info, is_async, now - tape.started_ns, 0, None, None]
                        tape.call_rows.append(row)
                        stored = True
            calls.append(row)
            new_state.append((tape, row if row is not None else parent))
        if not stored:
            return None
        return tuple(new_state), calls
    except Exception:
        return None


def end_call(
    current: State, calls: list[Any], error: BaseException | None, swallowed: bool
) -> None:
    """Set the duration (and error) of the rows :func:`begin_call` returned."""
    now = _perf_ns()
    for (tape, _parent), row in zip(current, calls, strict=False):
        if row is not None:
            row[C_END] = now - tape.started_ns
            if error is not None:
                note_error(row, error, swallowed)


def _error_text(error: BaseException) -> str:
    """``"ExcType: message"``. The message is ``str(error)`` only where that runs no code of the
    program: the ``__str__`` is a builtin exception's and the arguments are builtin values; else it
    is made from the arguments' snapshots."""
    kind = type(error)
    name = naming._type_qualname(kind)
    try:
        args = error.args
        if type(args) is not tuple:
            return name
        plain = all(type(arg) in _KEPT or type(arg) is str for arg in args)
        str_impl = owner = None
        for base in naming._type_mro(kind):
            str_impl = naming._type_dict(base).get("__str__")
            if str_impl is not None:
                owner = naming._type_module(base)
                break
        if plain and owner == "builtins":
            message = str(error)
        else:
            message = ", ".join(naming.describe(naming.snapshot(arg, 200), 200) for arg in args)
    except Exception:
        return name
    return f"{name}: {message}"[:500]


def note_return(row: list[Any], response: object) -> None:
    """Note on a call's row what the receiver returned (called only when that was not None)."""
    call_work(row).returned = _snapshot(response, 60)  # snapshot() never raises


def call_work(row: list[Any]) -> CallWork:
    """The database work of a call's row (made on first use)."""
    work: CallWork | None = row[C_WORK]
    if work is None:
        work = row[C_WORK] = CallWork()
    return work


def note_connection(
    action: str,
    signal: object,
    receiver: object,
    site: tuple[str, bool, bool] | None = None,
) -> None:
    """A ``connect()``/``disconnect()`` of ``receiver`` made while this context records, with
    ``site`` (``naming.connect_site()``, found here when the caller has not found it already):
    where it was called, whether at start-up (while a module was imported, or by Django's
    deferred connection of a lazy sender), and whether by the project's own code."""
    current = state.get()
    if not current:
        return
    now = _perf_ns()
    name = _receiver_info(receiver).name if receiver is not None else "?"
    callsite, start_up, by_project = site if site is not None else naming.connect_site()
    for tape, _parent in current:
        if tape.active:
            tape.connection_rows.append(
                (action, signal, name, callsite, now - tape.started_ns, start_up, by_project)
            )
