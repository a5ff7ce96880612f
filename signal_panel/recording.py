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
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from django.db.models.base import ModelBase

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


class ReceiverCall:
    """One call of one receiver during one send."""

    __slots__ = (
        "_info",
        "_sends",
        "connected_at",
        "duration_ns",
        "error",
        "is_async",
        "on_commit",
        "queries",
        "query_ns",
        "query_shapes",
        "send",
        "start_ns",
        "swallowed",
    )

    def __init__(self, send: Send, info: _describe.ReceiverInfo, is_async: bool, start_ns: int):
        self.send = send
        self._info = info
        self.is_async = is_async
        #: Nanoseconds from the recording's start to the call's start.
        self.start_ns = start_ns
        #: Wall-clock nanoseconds the call took (for async receivers, including time suspended).
        self.duration_ns = 0
        #: ``"ExcType: message"`` if the receiver raised, else None.
        self.error: str | None = None
        #: True when ``send_robust``/``asend_robust`` caught the error.
        self.swallowed = False
        self._sends: list[Send] | None = None
        #: ``file:line`` where the receiver was connected, if that happened after install().
        self.connected_at: str | None = None
        #: SQL queries run while the receiver ran (all database aliases), and their total time.
        self.queries = 0
        self.query_ns = 0
        #: ``{sql: count}`` of the queries run, to find repeated query shapes (None if none).
        self.query_shapes: dict[str, int] | None = None
        #: Number of ``transaction.on_commit`` callbacks the receiver registered.
        self.on_commit = 0

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
    def sends(self) -> list[Send]:
        """Sends made while this receiver ran, in the order they started."""
        return self._sends if self._sends is not None else []

    @property
    def depth(self) -> int:
        """Depth of the send this call belongs to."""
        return self.send.depth

    def __repr__(self) -> str:
        return f"<ReceiverCall {self.receiver_name} {self.duration_ns / 1e6:.3f}ms>"


class Send:
    """One send of one signal, with the receiver calls it made."""

    __slots__ = (
        "_code",
        "_kwargs",
        "_lineno",
        "calls",
        "depth",
        "duration_ns",
        "in_atomic",
        "is_async",
        "library",
        "parent",
        "robust",
        "sender",
        "signal",
        "start_ns",
    )

    def __init__(
        self,
        signal: object,
        sender: str,
        kwargs: tuple[str, ...],
        parent: ReceiverCall | None,
        robust: bool,
        is_async: bool,
        callsite: tuple[types.CodeType, int] | None,
        start_ns: int,
        library: str,
    ):
        self.signal = signal
        #: A short label of the sender (never the sender itself: it is not kept alive).
        self.sender = sender
        self._kwargs = kwargs
        self.parent = parent
        #: 0 for a send not made inside a receiver.
        self.depth = 0 if parent is None else parent.send.depth + 1
        self.robust = robust
        self.is_async = is_async
        if callsite is None:
            self._code: types.CodeType | None = None
            self._lineno = 0
        else:
            self._code, self._lineno = callsite
        self.start_ns = start_ns
        self.duration_ns = 0
        #: ``"django"`` or ``"blinker"``.
        self.library = library
        #: Receiver calls, in the order they started.
        self.calls: list[ReceiverCall] = []
        #: Whether the send ran inside ``transaction.atomic`` on its database (None if unknown).
        self.in_atomic: bool | None = None

    @property
    def signal_name(self) -> str:
        """Dotted path of the signal, e.g. ``django.db.models.signals.post_save``."""
        from signal_panel.registry import signal_name

        return signal_name(self.signal)

    @property
    def kwargs(self) -> dict[str, str]:
        """Safe one-line summaries of the keyword arguments, by name."""
        items = self._kwargs
        return dict(zip(items[::2], items[1::2], strict=True))

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
        return sum(call.duration_ns for send in self.sends if send.depth == 0 for call in send.calls)

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


def ignored(
    signal: object, sender: object, state: tuple[tuple[Recording, ReceiverCall | None], ...]
) -> bool:
    """Whether to leave this send out: the toolbar's own models (its store) are not the user's,
    and ``IGNORE_SIGNALS`` names signals no active recording wants."""
    if isinstance(sender, ModelBase) and sender._meta.app_label == "debug_toolbar":
        return True
    if not any(rec.config.ignore_signals for rec, _ in state):
        return False
    from signal_panel.registry import signal_name

    name = signal_name(signal)
    return all(name in rec.config.ignore_signals for rec, _ in state)


def begin_send(
    state: tuple[tuple[Recording, ReceiverCall | None], ...],
    signal: object,
    sender: object,
    named: dict[str, Any],
    robust: bool,
    is_async: bool,
    library: str,
    depth: int,
) -> list[Send | None]:
    """Create one :class:`Send` per active recording (None where a recording is full)."""
    first = state[0][0].config
    callsite = _describe.find_callsite(depth + 1) if first.capture_callsite else None
    sender_text = _describe.sender_label(sender, first.summary_length)
    kwargs = _describe.summarize_kwargs(named, first.summary_length, first.secret_pattern)
    now = _perf_ns()
    sends: list[Send | None] = []
    for recording, parent in state:
        if recording.call_count >= recording.config.max_calls:
            recording.dropped_sends += 1
            sends.append(None)
            continue
        send = Send(
            signal,
            sender_text,
            kwargs,
            parent,
            robust,
            is_async,
            callsite,
            now - recording.started_ns,
            library,
        )
        recording.sends.append(send)
        if parent is not None:
            if parent._sends is None:
                parent._sends = [send]
            else:
                parent._sends.append(send)
        sends.append(send)
    return sends


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
    for send, (recording, _) in zip(sends, state, strict=True):
        if send is not None:
            send.duration_ns = now - recording.started_ns - send.start_ns


def begin_call(
    state: tuple[tuple[Recording, ReceiverCall | None], ...],
    sends: list[Send | None],
    receiver: object,
    is_async: bool,
    connected_at: str | None,
) -> tuple[tuple[tuple[Recording, ReceiverCall | None], ...], list[ReceiverCall | None]]:
    """Create one :class:`ReceiverCall` per recording; return the state to run the receiver in."""
    info = _describe.describe_receiver(receiver)
    now = _perf_ns()
    calls: list[ReceiverCall | None] = []
    new_state = []
    for (recording, parent), send in zip(state, sends, strict=True):
        recording.call_count += 1
        if send is None or recording.call_count > recording.config.max_calls:
            recording.dropped_calls += 1
            calls.append(None)
            new_state.append((recording, parent))
            continue
        call = ReceiverCall(send, info, is_async, now - recording.started_ns)
        call.connected_at = connected_at
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
    text = None if error is None else _error_text(error)
    for call, (recording, _) in zip(calls, state, strict=True):
        if call is not None:
            call.duration_ns = now - recording.started_ns - call.start_ns
            if text is not None:
                call.error = text
                call.swallowed = swallowed


def _error_text(error: BaseException) -> str:
    try:
        message = str(error)
    except Exception:
        message = "<str() failed>"
    return f"{type(error).__qualname__}: {message}"[:500]
