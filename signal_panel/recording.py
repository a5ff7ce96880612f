"""What a recording holds, and how events reach the recordings active in the current context.

The instrumentation modules (``instrumentation/``) call :func:`begin_send` and :func:`begin_call`;
this module only appends plain objects. Naming, grouping and problem finding happen later, when
somebody reads :attr:`Recording.problems` or the panel generates its stats.

Context state
-------------
One ``ContextVar`` holds a tuple of ``(recording, current_call)`` pairs, one per recording active in
this context. It is only ever changed around *synchronous* stretches of code (a sync receiver, or
one step of an async receiver's coroutine) and always put back with its token before the stretch
ends. So the value never leaks to the caller through ``asgiref``'s or Django 6's context copying,
and parallel async receivers that share one ``Context`` (Django 6's ``_run_parallel``) each see
their own call while they run.
"""

from __future__ import annotations

import threading
import time
import types
from asyncio import _get_running_loop
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from django.db import connections

from signal_panel import _describe
from signal_panel.conf import Config, get_config

if TYPE_CHECKING:
    from signal_panel.problems import Problem

__all__ = ["ConnectEvent", "ReceiverCall", "Recording", "Send", "record_signals"]

_perf_ns = time.perf_counter_ns

#: ``((recording, current_call), ...)`` for every recording active in this context.
_state: ContextVar[tuple[tuple[Recording, ReceiverCall | None], ...]] = ContextVar(
    "signal_panel_state", default=()
)


class _DatabaseWork:
    """Database work of one receiver call; only created when it ran a query or used on_commit."""

    __slots__ = ("on_commit", "queries", "query_ns", "query_shapes")

    def __init__(self) -> None:
        self.queries = 0
        self.query_ns = 0
        self.query_shapes: dict[str, int] | None = None
        self.on_commit = 0


class ReceiverCall:
    """One call of one receiver during one send."""

    # One object per receiver call is the recorder's main cost, so the constructor stores only
    # what every call has; the rest (error, database work) stays unset until it happens and is
    # read through properties.
    __slots__ = ("_db", "_error", "_info", "_sends", "_swallowed", "duration_ns", "send", "start_ns")

    #: An async receiver (``_AsyncReceiverCall`` overrides it).
    is_async = False

    def __init__(self, send: Send, info: _describe.ReceiverInfo, start_ns: int = 0):
        self.send = send
        self._info = info
        #: Nanoseconds from the recording's start to the call's start.
        self.start_ns = start_ns
        #: Wall-clock nanoseconds the call took (for async receivers, including time suspended).
        self.duration_ns = 0
        self._sends: list[Send] | None = None

    @property
    def error(self) -> str | None:
        """``"ExcType: message"`` if the receiver raised, else None."""
        return getattr(self, "_error", None)

    @property
    def swallowed(self) -> bool:
        """True when ``send_robust``/``asend_robust`` caught the receiver's error."""
        return getattr(self, "_swallowed", False)

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
    def connected_at(self) -> str | None:
        """``file:line`` where this receiver was connected to the signal (None if that happened
        before ``signal_panel`` was imported). Several places, comma-separated, when the same
        logical receiver was connected more than once."""
        from signal_panel.registry import connection_places

        places = connection_places(self.send.signal, self._info)
        return ", ".join(places) if places else None

    @property
    def sends(self) -> list[Send]:
        """Sends made while this receiver ran, in the order they started."""
        return self._sends if self._sends is not None else []

    @property
    def depth(self) -> int:
        """Depth of the send this call belongs to."""
        return self.send.depth

    def _database(self) -> _DatabaseWork:
        db: _DatabaseWork | None = getattr(self, "_db", None)
        if db is None:
            db = self._db = _DatabaseWork()
        return db

    @property
    def _work(self) -> _DatabaseWork | None:
        return getattr(self, "_db", None)

    @property
    def queries(self) -> int:
        """SQL queries run while the receiver ran (all database aliases)."""
        return self._work.queries if self._work is not None else 0

    @queries.setter
    def queries(self, value: int) -> None:
        self._database().queries = value

    @property
    def query_ns(self) -> int:
        """Total time of those queries."""
        return self._work.query_ns if self._work is not None else 0

    @query_ns.setter
    def query_ns(self, value: int) -> None:
        self._database().query_ns = value

    @property
    def query_shapes(self) -> dict[str, int] | None:
        """``{sql: count}`` of the queries run, to find repeated query shapes (None if none)."""
        return self._work.query_shapes if self._work is not None else None

    @query_shapes.setter
    def query_shapes(self, value: dict[str, int] | None) -> None:
        self._database().query_shapes = value

    @property
    def on_commit(self) -> int:
        """Number of ``transaction.on_commit`` callbacks the receiver registered."""
        return self._work.on_commit if self._work is not None else 0

    @on_commit.setter
    def on_commit(self, value: int) -> None:
        self._database().on_commit = value

    def __repr__(self) -> str:
        return f"<ReceiverCall {self.receiver_name} {self.duration_ns / 1e6:.3f}ms>"


class _AsyncReceiverCall(ReceiverCall):
    __slots__ = ()
    is_async = True


#: ``(library, robust, is_async)`` of a send; the instrumentation passes shared constants.
SendKind = tuple[str, bool, bool]


class Send:
    """One send of one signal, with the receiver calls it made."""

    __slots__ = (
        "_code",
        "_config",
        "_in_atomic",
        "_kind",
        "_lineno",
        "_named",
        "_taken",
        "calls",
        "duration_ns",
        "parent",
        "sender",
        "signal",
        "start_ns",
    )

    def __init__(
        self,
        signal: object,
        sender: str,
        named: dict[str, Any],
        config: Config,
        parent: ReceiverCall | None,
        kind: tuple[str, bool, bool],
        callsite: tuple[types.CodeType, int] | None,
        start_ns: int,
        in_atomic: bool | None = None,
    ):
        self.signal = signal
        #: A short label of the sender (never the sender itself: it is not kept alive).
        self.sender = sender
        # The keyword arguments are summarised when read, not while receivers run; what changes
        # as the chain runs (primary keys, mutable containers) is taken now.
        self._named = named or None
        self._taken = _describe.snapshot(named) if named else None
        self._config = config
        #: The receiver call this send was made from, or None.
        self.parent = parent
        self._kind = kind
        if callsite is None:
            self._code: types.CodeType | None = None
            self._lineno = 0
        else:
            self._code, self._lineno = callsite
        #: Nanoseconds from the recording's start to the send's start.
        self.start_ns = start_ns
        self.duration_ns = 0
        #: Receiver calls, in the order they started.
        self.calls: list[ReceiverCall] = []
        self._in_atomic = in_atomic

    @property
    def in_atomic(self) -> bool | None:
        """Whether the send ran inside ``transaction.atomic`` on its database (None if unknown)."""
        return self._in_atomic

    @in_atomic.setter
    def in_atomic(self, value: bool | None) -> None:
        self._in_atomic = value

    @property
    def depth(self) -> int:
        """0 for a send not made inside a receiver, else one more than its parent's send."""
        depth = 0
        parent = self.parent
        while parent is not None:
            depth += 1
            parent = parent.send.parent
        return depth

    @property
    def library(self) -> str:
        """``"django"`` or ``"blinker"``."""
        return self._kind[0]

    @property
    def robust(self) -> bool:
        """Sent with ``send_robust``/``asend_robust``."""
        return self._kind[1]

    @property
    def is_async(self) -> bool:
        """Sent with ``asend``/``asend_robust`` (or blinker's ``send_async``)."""
        return self._kind[2]

    @property
    def signal_name(self) -> str:
        """Dotted path of the signal, e.g. ``django.db.models.signals.post_save``."""
        from signal_panel.registry import signal_name

        return signal_name(self.signal)

    @property
    def kwargs(self) -> dict[str, str]:
        """Safe one-line summaries of the keyword arguments, by name.

        Secret-looking names are masked; model instances show the primary key they had when the
        signal was sent; other values are summarised as they are when read.
        """
        if self._named is None:
            return {}
        config = self._config
        return _describe.summarize_kwargs(
            self._named, config.summary_length, config.secret_pattern, self._taken
        )

    @property
    def callsite(self) -> str:
        """``file:line in function`` of the first frame outside Django and the libraries."""
        return _describe.format_callsite(self._code, self._lineno)

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


class Recording:
    """Everything signal-related that happened in one context while recording.

    ``sends`` lists every send in the order the sends started, nested ones included; follow
    ``Send.calls`` and ``ReceiverCall.sends`` for the tree, or use :attr:`roots`.
    """

    def __init__(self, config: Config | None = None):
        self.config = config if config is not None else get_config()
        self.sends: list[Send] = []
        #: ``connect()``/``disconnect()`` calls made while recording.
        self.connections: list[ConnectEvent] = []
        #: Extra findings reported by instrumentation (e.g. bulk operations that skip receivers).
        self.events: list[dict[str, Any]] = []
        #: Receiver calls made, stored or not.
        self.call_count = 0
        #: Receiver calls made but not stored because ``MAX_CALLS`` was reached.
        self.dropped_calls = 0
        #: Sends made but not stored because ``MAX_CALLS`` was reached.
        self.dropped_sends = 0
        self.started_ns = _perf_ns()
        self.duration_ns = 0
        self.active = False
        self._problems: list[Problem] | None = None

    @property
    def truncated(self) -> bool:
        """True when calls were counted but not stored because ``MAX_CALLS`` was reached."""
        return self.dropped_calls > 0 or self.dropped_sends > 0

    @property
    def roots(self) -> list[Send]:
        """The sends not made inside a receiver that this recording saw."""
        return [send for send in self.sends if send.parent is None or send.parent.send not in self]

    def __contains__(self, send: object) -> bool:
        return any(s is send for s in self.sends)

    @property
    def calls(self) -> list[ReceiverCall]:
        """Every stored receiver call, in the order the calls started."""
        calls = [call for send in self.sends for call in send.calls]
        calls.sort(key=lambda call: call.start_ns)
        return calls

    @property
    def total_receiver_ns(self) -> int:
        """Time spent in receivers, counting nested receivers once (inside their parent)."""
        return sum(call.duration_ns for send in self.sends if send.parent is None for call in send.calls)

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
        return f"<Recording sends={len(self.sends)} calls={self.call_count}>"


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
    token = _state.set((*_state.get(), (recording, None)))
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


def ignored(signal: object, state: tuple[tuple[Recording, ReceiverCall | None], ...]) -> bool:
    """Whether every active recording lists ``signal`` in ``IGNORE_SIGNALS``."""
    from signal_panel.registry import signal_name

    name = signal_name(signal)
    return all(name in rec.config.ignore_signals for rec, _ in state)


def begin_send(
    state: tuple[tuple[Recording, ReceiverCall | None], ...],
    signal: object,
    sender: object,
    named: dict[str, Any],
    kind: tuple[str, bool, bool],
    skip: int,
) -> list[Send | None] | None:
    """Create one :class:`Send` per active recording (None where a recording is full).

    Returns None when the send is not to be recorded at all (see :func:`ignored`). ``skip`` is
    the number of instrumentation frames between the caller of ``send()`` and this function.
    """
    first = state[0][0]
    config = first.config
    label = _describe.fast_sender_label(sender, config.summary_length)
    if label is None or (config.ignore_signals and ignored(signal, state)):
        return None
    callsite = _describe.find_callsite(skip + 1) if config.capture_callsite else None
    in_atomic = _in_atomic(named["using"]) if "using" in named else None
    now = _perf_ns()
    if len(state) == 1:
        parent = state[0][1]
        if first.call_count >= config.max_calls:
            first.dropped_sends += 1
            return [None]
        send = Send(
            signal, label, named, config, parent, kind, callsite, now - first.started_ns, in_atomic
        )
        first.sends.append(send)
        if parent is not None:
            if parent._sends is None:
                parent._sends = [send]
            else:
                parent._sends.append(send)
        return [send]
    sends: list[Send | None] = []
    for recording, parent in state:
        if recording.call_count >= recording.config.max_calls:
            recording.dropped_sends += 1
            sends.append(None)
            continue
        send = Send(
            signal,
            label,
            named,
            recording.config,
            parent,
            kind,
            callsite,
            now - recording.started_ns,
            in_atomic,
        )
        recording.sends.append(send)
        if parent is not None:
            if parent._sends is None:
                parent._sends = [send]
            else:
                parent._sends.append(send)
        sends.append(send)
    return sends


def _in_atomic(using: object) -> bool | None:
    """Whether the connection named ``using`` is inside ``transaction.atomic`` (a flag: no query).
    None when ``using`` names no database."""
    try:
        # ``connections[using]`` goes through asgiref's Local, which asks asyncio for a running
        # loop by raising and catching an exception: most of this function's cost. In a sync
        # thread that Local is a plain ``threading.local``; read the connection from it directly.
        if _get_running_loop() is None:
            storage = getattr(getattr(connections, "_connections", None), "_storage", None)
            if isinstance(storage, threading.local) and isinstance(using, str):
                connection = getattr(storage, using, None)
                if connection is not None:
                    return bool(connection.in_atomic_block)
        return bool(connections[using].in_atomic_block)  # type: ignore[index]
    except Exception:
        return None


def note_connection(
    state: tuple[tuple[Recording, ReceiverCall | None], ...],
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


def end_send(
    sends: list[Send | None], state: tuple[tuple[Recording, ReceiverCall | None], ...]
) -> None:
    now = _perf_ns()
    if len(sends) == 1:
        send = sends[0]
        if send is not None:
            send.duration_ns = now - state[0][0].started_ns - send.start_ns
        return
    for send, (recording, _) in zip(sends, state, strict=True):
        if send is not None:
            send.duration_ns = now - recording.started_ns - send.start_ns


def begin_call(
    state: tuple[tuple[Recording, ReceiverCall | None], ...],
    sends: list[Send | None],
    receiver: object,
    is_async: bool,
) -> tuple[tuple[tuple[Recording, ReceiverCall | None], ...], list[ReceiverCall | None]]:
    """Create one :class:`ReceiverCall` per recording; return the state to run the receiver in."""
    info = _describe.describe_receiver(receiver)
    now = _perf_ns()
    if len(state) == 1:
        recording, parent = state[0]
        send = sends[0]
        recording.call_count += 1
        if send is None or recording.call_count > recording.config.max_calls:
            recording.dropped_calls += 1
            return state, [None]
        call = (_AsyncReceiverCall if is_async else ReceiverCall)(
            send, info, now - recording.started_ns
        )
        send.calls.append(call)
        return ((recording, call),), [call]
    calls: list[ReceiverCall | None] = []
    new_state = []
    for (recording, parent), send in zip(state, sends, strict=True):
        recording.call_count += 1
        if send is None or recording.call_count > recording.config.max_calls:
            recording.dropped_calls += 1
            calls.append(None)
            new_state.append((recording, parent))
            continue
        call = (_AsyncReceiverCall if is_async else ReceiverCall)(
            send, info, now - recording.started_ns
        )
        send.calls.append(call)
        calls.append(call)
        new_state.append((recording, call))
    return tuple(new_state), calls


def end_call(
    calls: list[ReceiverCall | None],
    state: tuple[tuple[Recording, ReceiverCall | None], ...],
    error: BaseException | None,
    swallowed: bool,
) -> None:
    now = _perf_ns()
    if error is None and len(calls) == 1:
        call = calls[0]
        if call is not None:
            call.duration_ns = now - state[0][0].started_ns - call.start_ns
        return
    for call, (recording, _) in zip(calls, state, strict=True):
        if call is not None:
            call.duration_ns = now - recording.started_ns - call.start_ns
            if error is not None:
                note_error(call, error, swallowed)


def note_error(call: ReceiverCall, error: BaseException, swallowed: bool) -> None:
    call._error = _error_text(error)
    call._swallowed = swallowed


def _error_text(error: BaseException) -> str:
    try:
        message = str(error)
    except Exception:
        message = "<str() failed>"
    return f"{type(error).__qualname__}: {message}"[:500]
