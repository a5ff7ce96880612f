"""What a recording holds, and how events reach the recordings active in the current context.

The instrumentation modules (``instrumentation/``) call :func:`begin_send`, :func:`begin_call`
and their ``end_*`` counterparts. While receivers run, this module only appends plain values to
two flat lists per recording: one row of fields per send, one per receiver call. Rows hold no
object of their own, so a long recording adds no work for the garbage collector, which otherwise
dominates a recorder's cost. :class:`Send` and :class:`ReceiverCall` are views over those rows,
made when somebody reads :attr:`Recording.sends`; naming, summarising and problem finding happen
then too.

Context state
-------------
One ``ContextVar`` holds a tuple of ``(recording, current_call)`` pairs, one per recording active
in this context, where ``current_call`` is the receiver call's row (an int) or None. It is only
ever changed around *synchronous* stretches of code (a sync receiver, or one step of an async
receiver's coroutine) and always put back with its token before the stretch ends. So the value
never leaks to the caller through ``asgiref``'s or Django 6's context copying, and parallel async
receivers that share one ``Context`` (Django 6's ``_run_parallel``) each see their own call while
they run.
"""

from __future__ import annotations

import threading
from asyncio import _get_running_loop
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from threading import get_ident
from typing import TYPE_CHECKING, Any

from signal_panel import _describe, _hotpath
from signal_panel._context import (
    C_ASYNC,
    C_DB,
    C_DURATION,
    C_ERROR,
    C_INFO,
    C_SEND,
    C_START,
    C_SWALLOWED,
    CALL_FIELDS,
    S_DURATION,
    S_PARENT,
    S_START,
    SEND_FIELDS,
    State,
    _in_atomic,
    _perf_ns,
    _state,
    current,
    note_error,
)
from signal_panel.conf import Config, get_config

if TYPE_CHECKING:
    from signal_panel.problems import Problem

__all__ = ["ConnectEvent", "ReceiverCall", "Recording", "Send", "record_signals"]

#: ``(library, robust, is_async)`` of a send; the instrumentation passes shared constants.
SendKind = tuple[str, bool, bool]


class _DatabaseWork:
    """Database work of one receiver call; only made when it ran a query or used on_commit."""

    __slots__ = ("on_commit", "queries", "query_ns", "query_shapes")

    def __init__(self) -> None:
        self.queries = 0
        self.query_ns = 0
        self.query_shapes: dict[str, int] | None = None
        self.on_commit = 0


class ReceiverCall:
    """One call of one receiver during one send: a view over the recording's row.

    What cannot change once the call started is copied into the view when it is made; the rest
    (duration, error, database work) is read from the row, so a view made while the recording
    runs stays current.
    """

    __slots__ = ("_at", "_info", "_recording", "_rows", "_send_at", "_sends", "is_async")

    def __init__(self, recording: Recording, at: int):
        rows = recording._call_rows
        self._recording = recording
        self._rows = rows
        self._at = at
        self._send_at: int = rows[at + C_SEND]
        self._info: _describe.ReceiverInfo = rows[at + C_INFO]
        #: An async receiver.
        self.is_async: bool = bool(rows[at + C_ASYNC])
        self._sends: list[Send] | None = None

    @property
    def send(self) -> Send:
        """The send this call belongs to."""
        # A call's send row comes before it, so its view exists whenever this one does.
        return self._recording._send_views[self._send_at // SEND_FIELDS]

    @property
    def receiver_name(self) -> str:
        """``module.qualname`` of the receiver (or the name a person recognises it by)."""
        return self._info.name

    @property
    def location(self) -> str:
        """``file:line`` of the receiver's definition."""
        return self._info.location

    @property
    def logical_key(self) -> tuple[Any, ...]:
        """Equal for two calls of the same logical receiver (see ``ReceiverInfo``)."""
        return self._info.logical_key

    @property
    def start_ns(self) -> int:
        """Nanoseconds from the recording's start to the call's start."""
        start: int = self._rows[self._at + C_START]
        return start

    @property
    def duration_ns(self) -> int:
        """Wall-clock nanoseconds the call took (async receivers: including time suspended)."""
        duration: int = self._rows[self._at + C_DURATION]
        return duration

    @property
    def error(self) -> str | None:
        """``"ExcType: message"`` if the receiver raised, else None."""
        error: str | None = self._rows[self._at + C_ERROR]
        return error

    @property
    def swallowed(self) -> bool:
        """True when ``send_robust``/``asend_robust`` caught the receiver's error."""
        return bool(self._rows[self._at + C_SWALLOWED])

    @property
    def connected_at(self) -> str | None:
        """``file:line`` where this receiver was connected to the signal (None if that happened
        before ``signal_panel`` was imported). Several places, comma-separated, when the same
        logical receiver was connected more than once and still was when the signal was sent."""
        from signal_panel.registry import connection_places

        send = self.send
        at = self._recording.started_ns + send.start_ns
        places = connection_places(send.signal, self._info, at)
        return ", ".join(places) if places else None

    @property
    def sends(self) -> list[Send]:
        """Sends made while this receiver ran, in the order they started."""
        sends = self._sends
        if sends is None:
            recording = self._recording
            sends = recording._sends_made_in(self._at)
            if not recording.active:  # Final: keep it.
                self._sends = sends
        return sends

    @property
    def depth(self) -> int:
        """Depth of the send this call belongs to."""
        return self.send.depth

    @property
    def _work(self) -> _DatabaseWork | None:
        work: _DatabaseWork | None = self._rows[self._at + C_DB]
        return work

    @property
    def queries(self) -> int:
        """SQL queries run while the receiver ran (all database aliases)."""
        work = self._work
        return work.queries if work is not None else 0

    @property
    def query_ns(self) -> int:
        """Total time of those queries."""
        work = self._work
        return work.query_ns if work is not None else 0

    @property
    def query_shapes(self) -> dict[str, int] | None:
        """``{sql: count}`` of the queries run, to find repeated query shapes (None if none)."""
        work = self._work
        return work.query_shapes if work is not None else None

    @property
    def on_commit(self) -> int:
        """Number of ``transaction.on_commit`` callbacks the receiver registered."""
        work = self._work
        return work.on_commit if work is not None else 0

    def __repr__(self) -> str:
        return f"<ReceiverCall {self.receiver_name} {self.duration_ns / 1e6:.3f}ms>"


class Send:
    """One send of one signal, with the receiver calls it made: a view over the recording's row
    (see :class:`ReceiverCall` for what is copied and what is read live)."""

    __slots__ = (
        "_at",
        "_calls",
        "_code",
        "_depth",
        "_keys",
        "_kind",
        "_lasti",
        "_parent_at",
        "_recording",
        "_rows",
        "_taken",
        "_values",
        "in_atomic",
        "sender",
        "signal",
        "start_ns",
    )

    def __init__(self, recording: Recording, at: int):
        rows = recording._send_rows
        self._recording = recording
        self._rows = rows
        self._at = at
        (
            self.signal,
            self.sender,
            self._keys,
            self._values,
            self._taken,
            self._parent_at,
            self._kind,
            self._code,
            self._lasti,
            self.start_ns,
            _duration,
            self.in_atomic,
        ) = rows[at : at + SEND_FIELDS]
        self._depth: int | None = None
        self._calls: list[ReceiverCall] | None = None

    @property
    def parent(self) -> ReceiverCall | None:
        """The receiver call this send was made from, or None."""
        parent: int | None = self._parent_at
        if parent is None:
            return None
        # A parent call's row comes before this send's, so its view exists whenever this does.
        return self._recording._call_views[parent // CALL_FIELDS]

    @property
    def depth(self) -> int:
        """0 for a send not made inside a receiver, else one more than its parent's send."""
        if self._depth is None:
            parent = self.parent
            self._depth = 0 if parent is None else parent.send.depth + 1
        return self._depth

    @property
    def calls(self) -> list[ReceiverCall]:
        """Receiver calls, in the order they started."""
        calls = self._calls
        if calls is None:
            recording = self._recording
            calls = recording._calls_of(self._at)
            if not recording.active:  # Final: keep it.
                self._calls = calls
        return calls

    @property
    def library(self) -> str:
        """``"django"`` or ``"blinker"``."""
        kind: SendKind = self._kind
        return kind[0]

    @property
    def robust(self) -> bool:
        """Sent with ``send_robust``/``asend_robust``."""
        kind: SendKind = self._kind
        return kind[1]

    @property
    def is_async(self) -> bool:
        """Sent with ``asend``/``asend_robust`` (or blinker's ``send_async``)."""
        kind: SendKind = self._kind
        return kind[2]

    @property
    def duration_ns(self) -> int:
        """How long the send took, receivers included."""
        duration: int = self._rows[self._at + S_DURATION]
        return duration

    @property
    def signal_name(self) -> str:
        """Dotted path of the signal, e.g. ``django.db.models.signals.post_save``."""
        from signal_panel.registry import signal_name

        return signal_name(self.signal)

    @property
    def kwargs(self) -> dict[str, str]:
        """Safe one-line summaries of the keyword arguments, by name.

        Secret-looking names are masked; what changes as a signal chain runs (model instances'
        primary keys, mutable containers) is shown as it was when the signal was sent; other
        values are summarised as they are when read.
        """
        if not self._keys:
            return {}
        config = self._recording.config
        named = dict(zip(self._keys, self._values, strict=True))
        return _describe.summarize_kwargs(
            named, config.summary_length, config.secret_pattern, self._taken
        )

    @property
    def callsite(self) -> str:
        """``file:line in function`` of the first frame outside Django and the libraries."""
        return _describe.format_callsite(self._code, self._lasti)

    def __repr__(self) -> str:
        return f"<Send {self.signal_name} sender={self.sender} calls={len(self.calls)}>"


class ConnectEvent:
    """A ``connect()`` or ``disconnect()`` made while the recording was active."""

    __slots__ = ("action", "callsite", "receiver_name", "signal", "start_ns")

    def __init__(self, action: str, signal: object, receiver_name: str, callsite: str, at: int):
        self.action = action
        self.signal = signal
        self.receiver_name = receiver_name
        self.callsite = callsite
        self.start_ns = at

    @property
    def signal_name(self) -> str:
        from signal_panel.registry import signal_name

        return signal_name(self.signal)


class Recording(_hotpath.Tape):
    """Everything signal-related that happened in one context while recording.

    ``sends`` lists every send in the order the sends started, nested ones included; follow
    ``Send.calls`` and ``ReceiverCall.sends`` for the tree, or use :attr:`roots`.
    """

    def __init__(self, config: Config | None = None):
        # Tape: the rows (appended while receivers run, read through views afterwards),
        # call_count, dropped_calls and started_ns.
        super().__init__()
        self.config = config if config is not None else get_config()
        self._max_calls = self.config.max_calls
        self._callsites = self.config.capture_callsite
        self._ignoring = bool(self.config.ignore_signals)
        #: ``connect()``/``disconnect()`` calls made while recording.
        self.connections: list[ConnectEvent] = []
        #: Extra findings reported by instrumentation (e.g. bulk operations that skip receivers).
        self.events: list[dict[str, Any]] = []
        #: Sends made but not stored because ``MAX_CALLS`` was reached.
        self.dropped_sends = 0
        self.started_ns = _perf_ns()
        self.duration_ns = 0
        self.active = False
        self._problems: list[Problem] | None = None
        # Views and the tree's indexes, built when read (see _index).
        self._send_views: list[Send] = []
        self._call_views: list[ReceiverCall] = []
        self._sends_done = 0
        self._calls_done = 0
        self._calls_by_send: dict[int, list[ReceiverCall]] = {}
        self._sends_by_call: dict[int, list[Send]] = {}

    # -- reading ---------------------------------------------------------------------------------

    def _index(self) -> None:
        """Make views for the rows appended since the last read, and file them in the tree."""
        send_rows, call_rows = self._send_rows, self._call_rows
        if len(send_rows) == self._sends_done and len(call_rows) == self._calls_done:
            return
        for at in range(self._sends_done, len(send_rows), SEND_FIELDS):
            send = Send(self, at)
            self._send_views.append(send)
            parent = send_rows[at + S_PARENT]
            if parent is not None:
                self._sends_by_call.setdefault(parent, []).append(send)
        for at in range(self._calls_done, len(call_rows), CALL_FIELDS):
            call = ReceiverCall(self, at)
            self._call_views.append(call)
            self._calls_by_send.setdefault(call_rows[at + C_SEND], []).append(call)
        self._sends_done, self._calls_done = len(send_rows), len(call_rows)

    def _call_view(self, at: int) -> ReceiverCall:
        self._index()
        return self._call_views[at // CALL_FIELDS]

    # The tree's lists are read very often (the panel reads each send's calls several times), so
    # the staleness check is written out and the lists are returned as they are kept.

    def _calls_of(self, send_at: int) -> list[ReceiverCall]:
        if len(self._call_rows) != self._calls_done or len(self._send_rows) != self._sends_done:
            self._index()
        return self._calls_by_send.get(send_at) or []

    def _sends_made_in(self, call_at: int) -> list[Send]:
        if len(self._call_rows) != self._calls_done or len(self._send_rows) != self._sends_done:
            self._index()
        return self._sends_by_call.get(call_at) or []

    def database_work(self, call: int) -> _DatabaseWork:
        """The database work of the call whose row starts at ``call`` (made on first use)."""
        work: _DatabaseWork | None = self._call_rows[call + C_DB]
        if work is None:
            work = self._call_rows[call + C_DB] = _DatabaseWork()
        return work

    @property
    def sends(self) -> list[Send]:
        """Every stored send, in the order the sends started, nested ones included."""
        self._index()
        return list(self._send_views)

    @property
    def calls(self) -> list[ReceiverCall]:
        """Every stored receiver call, in the order the calls started."""
        self._index()
        return list(self._call_views)

    @property
    def truncated(self) -> bool:
        """True when calls were counted but not stored because ``MAX_CALLS`` was reached."""
        return self.dropped_calls > 0 or self.dropped_sends > 0

    @property
    def roots(self) -> list[Send]:
        """The sends not made inside a receiver."""
        return [send for send in self.sends if send.parent is None]

    def __contains__(self, send: object) -> bool:
        return isinstance(send, Send) and send._recording is self

    @property
    def total_receiver_ns(self) -> int:
        """Time spent in receivers, counting nested receivers once (inside their parent)."""
        return sum(call.duration_ns for send in self.roots for call in send.calls)

    @property
    def problems(self) -> list[Problem]:
        """Findings about this recording (see ``signal_panel.problems``), worst first."""
        if self._problems is None or self.active:
            from signal_panel.problems import find_problems

            problems = find_problems(self)
            if self.active:
                return problems
            self._problems = problems
        return self._problems

    def format_tree(self, *, color: bool | None = None) -> str:
        """The timeline as indented text (see ``signal_panel.text``)."""
        from signal_panel.text import format_tree

        return format_tree(self, color=color)

    def __repr__(self) -> str:
        return f"<Recording sends={len(self._send_rows) // SEND_FIELDS} calls={self.call_count}>"


# -- the process-wide switch --------------------------------------------------------------------

_switch_lock = threading.Lock()
_active_recordings = 0
#: ``(on, off)`` pairs registered by the instrumentation modules.
_switches: list[tuple[Callable[[], None], Callable[[], None]]] = []


def register_switch(on: Callable[[], None], off: Callable[[], None]) -> None:
    """Called once per instrumentation module at install()."""
    with _switch_lock:
        _switches.append((on, off))
        if _active_recordings:
            on()


def is_recording_anywhere() -> bool:
    return _active_recordings > 0


def _acquire() -> None:
    global _active_recordings
    with _switch_lock:
        _active_recordings += 1
        if _active_recordings == 1:
            for on, _off in _switches:
                on()


def _release() -> None:
    global _active_recordings
    with _switch_lock:
        _active_recordings -= 1
        if _active_recordings == 0:
            for _on, off in _switches:
                off()


def start(recording: Recording) -> object:
    """Make ``recording`` active in the current context; returns a token for :func:`stop`."""
    from signal_panel import install

    install()
    recording.active = True
    recording.started_ns = _perf_ns()
    # Where no event loop runs, sync sends move this cursor instead of setting the variable.
    position = None if _get_running_loop() is not None else [None, None, get_ident()]
    token = _state.set((*_state.get(), (recording, position)))
    _acquire()
    return token


def stop(recording: Recording, token: object) -> None:
    """End ``recording``; the context gets back the state it had before :func:`start`."""
    recording.duration_ns = _perf_ns() - recording.started_ns
    recording.active = False
    try:
        _state.reset(token)  # type: ignore[arg-type]
    except ValueError:
        # Stopped in another context than it started in (e.g. an ASGI middleware that starts in
        # one task and stops in another): leave that context's state alone but remove ours.
        _state.set(tuple(pair for pair in _state.get() if pair[0] is not recording))
    finally:
        _release()


@contextmanager
def record_signals(config: Config | None = None) -> Iterator[Recording]:
    """Record every signal sent in the current context while the block runs.

    Usable in sync and async code (``with record_signals() as rec:`` inside a coroutine records
    what that coroutine and the tasks it starts send). Recordings nest: each active recording sees
    every send made while it is active.
    """
    recording = Recording(config)
    token = start(recording)
    try:
        yield recording
    finally:
        stop(recording, token)


# -- used by the instrumentation modules --------------------------------------------------------
def ignored(signal: object, state: State) -> bool:
    """Whether every active recording lists ``signal`` in ``IGNORE_SIGNALS``."""
    from signal_panel.registry import signal_name

    name = signal_name(signal)
    return all(name in rec.config.ignore_signals for rec, _ in state)


def begin_send(
    state: State,
    signal: object,
    sender: object,
    named: dict[str, Any],
    kind: SendKind,
) -> list[int | None] | None:
    """Append a send's row to each active recording; return the handles (None where a recording
    is full), or None when the send is not to be recorded at all (the toolbar's own models, or
    ``IGNORE_SIGNALS``).
    """
    first = state[0][0]
    config = first.config
    label = _describe.fast_sender_label(sender, config.summary_length)
    if label is None or (config.ignore_signals and ignored(signal, state)):
        return None
    callsite = _hotpath.find_callsite() if config.capture_callsite else None
    code, lasti = callsite if callsite is not None else (None, 0)
    in_atomic = _in_atomic(named["using"]) if "using" in named else None
    taken = _hotpath.snapshot(named) if named else None
    keys, values = _hotpath.pack_kwargs(named)
    now = _perf_ns()
    handles: list[int | None] = []
    for recording, parent in state:
        if recording.call_count >= recording.config.max_calls:
            recording.dropped_sends += 1
            handles.append(None)
            continue
        rows = recording._send_rows
        handles.append(len(rows))
        rows += (
            signal,
            label,
            keys,
            values,
            taken,
            current(parent),
            kind,
            code,
            lasti,
            now - recording.started_ns,
            0,
            in_atomic,
        )
    return handles


def note_connection(
    state: State,
    action: str,
    signal: object,
    receiver_name: str,
    callsite: str,
) -> None:
    """A ``connect()``/``disconnect()`` made while recording."""
    now = _perf_ns()
    for recording, _ in state:
        recording.connections.append(
            ConnectEvent(action, signal, receiver_name, callsite, now - recording.started_ns)
        )


def end_send(sends: list[int | None], state: State) -> None:
    now = _perf_ns()
    for send, (recording, _) in zip(sends, state, strict=True):
        if send is not None:
            rows = recording._send_rows
            rows[send + S_DURATION] = now - recording.started_ns - rows[send + S_START]


def begin_call(
    state: State,
    sends: list[int | None],
    receiver: object,
    is_async: bool,
) -> tuple[State, list[int | None]]:
    """Append a receiver call's row to each recording; return the state to run the receiver in
    and the calls' handles."""
    info = _describe.cached_receiver_info(receiver) or _describe.describe_receiver(receiver)
    now = _perf_ns()
    calls: list[int | None] = []
    new_state: list[tuple[Recording, int | list[Any] | None]] = []
    for (recording, parent), send in zip(state, sends, strict=True):
        recording.call_count += 1
        if send is None or recording.call_count > recording.config.max_calls:
            recording.dropped_calls += 1
            calls.append(None)
            new_state.append((recording, parent))
            continue
        rows = recording._call_rows
        at = len(rows)
        rows += (send, info, is_async, now - recording.started_ns, 0, None, False, None)
        calls.append(at)
        new_state.append((recording, at))
    return tuple(new_state), calls


def end_call(
    calls: list[int | None],
    state: State,
    error: BaseException | None,
    swallowed: bool,
) -> None:
    now = _perf_ns()
    for call, (recording, _) in zip(calls, state, strict=True):
        if call is not None:
            rows = recording._call_rows
            rows[call + C_DURATION] = now - recording.started_ns - rows[call + C_START]
            if error is not None:
                note_error(recording, call, error, swallowed)
