"""What a recording holds: :class:`Recording`, :class:`Send` and :class:`ReceiverCall`, read-only
views over the rows tracking wrote (:mod:`signal_panel.tracking.rows`), and :func:`record_signals`.

A view is made when somebody reads :attr:`Recording.sends` or :attr:`Recording.calls`. What
cannot change once a send or call started is read from the row when needed; what can (duration,
error, database work) too, so a view made while the recording runs stays current. The tree is
walked without recursion, so a recording as deep as the program survived can be read.

Analysis (:mod:`signal_panel.problems`) and rendering (:mod:`signal_panel.text`) are not imported
here: they hand this module their entry points when they are imported (:func:`provide`).
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from django.db.models.signals import pre_init

from signal_panel import naming, tracking
from signal_panel.conf import Config, get_config
from signal_panel.tracking.rows import (
    C_ASYNC,
    C_END,
    C_ERROR,
    C_INFO,
    C_SEND,
    C_START,
    C_WORK,
    DISCARDED,
    LOST,
    PENDING,
    RAN,
    REFUSED,
    S_ARGS,
    S_CODE,
    S_END,
    S_IN_ATOMIC,
    S_KIND,
    S_LASTI,
    S_PARENT,
    S_QUIET,
    S_SENDER,
    S_SIGNAL,
    S_START,
    CallWork,
    Hook,
    Tape,
)

if TYPE_CHECKING:
    from signal_panel.problems import Problem

__all__ = [
    "CommitCallback",
    "ConnectEvent",
    "ReceiverCall",
    "Recording",
    "Send",
    "drive",
    "record_signals",
]

#: What an empty list of calls or sends is (shared: read, never changed).
_NONE: list[Any] = []

#: Entry points of the layers above this one, handed over by :func:`provide`.
_provided: dict[str, Callable[..., Any]] = {}


def provide(name: str, function: Callable[..., Any]) -> None:
    """Called by ``signal_panel.problems`` (``"problems"``) and ``signal_panel.text``
    (``"format_tree"``) when imported; ``import signal_panel`` imports both."""
    _provided[name] = function


#: A walker of a subtree: a generator that yields the walkers of its children (see :func:`drive`).
Nested = Generator["Nested", None, None]


def drive(walker: Nested) -> None:
    """Run ``walker`` and every walker it yields, depth first, from an explicit stack: readers
    that render a tree write each level as a generator, so no tree is too deep to render."""
    stack: list[Any] = [walker]
    while stack:
        child = next(stack[-1], None)
        if child is None:
            stack.pop()
        else:
            stack.append(child)


def call_ns(row: list[Any]) -> int:
    """How long the call of a call row took (:attr:`ReceiverCall.duration_ns`); 0 while it runs.
    Readers that look at every row read it from the row, without a view."""
    end: int = row[C_END]
    return end - row[C_START] if end else 0


class ReceiverCall:
    """One call of one receiver during one send."""

    __slots__ = ("_recording", "_row", "_sends")

    def __init__(self, recording: Recording, row: list[Any]):
        self._recording = recording
        self._row = row
        self._sends: list[Send] | None = None

    @property
    def send(self) -> Send:
        """The send this call belongs to."""
        return self._recording._send_view(self._row[C_SEND])

    @property
    def _info(self) -> naming.ReceiverInfo:
        info: naming.ReceiverInfo = self._row[C_INFO]
        return info

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
        """Equal for two calls of the same logical receiver (a module imported twice, a closure
        made per call, bound methods of several instances)."""
        return self._info.logical_key

    @property
    def is_async(self) -> bool:
        """An async receiver."""
        return bool(self._row[C_ASYNC])

    @property
    def start_ns(self) -> int:
        """Nanoseconds from the recording's start to the call's start."""
        start: int = self._row[C_START]
        return start

    @property
    def duration_ns(self) -> int:
        """Wall-clock nanoseconds the call took (async receivers: including time suspended)."""
        return call_ns(self._row)

    @property
    def error(self) -> str | None:
        """``"ExcType: message"`` if the receiver raised, else None."""
        error: tuple[str, bool] | None = self._row[C_ERROR]
        return None if error is None else error[0]

    @property
    def swallowed(self) -> bool:
        """True when ``send_robust``/``asend_robust`` caught the receiver's error."""
        error: tuple[str, bool] | None = self._row[C_ERROR]
        return error is not None and error[1]

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
            sends = recording._children(self._row)
            if not recording.active:  # final: keep it
                self._sends = sends
        return sends

    @property
    def depth(self) -> int:
        """Depth of the send this call belongs to."""
        return self._recording._depth(self._row[C_SEND])

    @property
    def _work(self) -> CallWork | None:
        work: CallWork | None = self._row[C_WORK]
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

    @property
    def commit_callbacks(self) -> list[CommitCallback]:
        """The ``transaction.on_commit`` callbacks the receiver registered, in order, each with
        what became of it (``CommitCallback.outcome``)."""
        work = self._work
        if work is None or not work.hooks:
            return []
        origin = self._recording.started_ns
        return [CommitCallback(hook, origin) for hook in work.hooks]

    @property
    def returned(self) -> str | None:
        """A safe summary of what the receiver returned, or None when it returned None."""
        work = self._work
        if work is None or work.returned is None:
            return None
        config = self._recording.config
        return naming.describe(work.returned, config.summary_length, config.secret_pattern)

    @property
    def returned_false(self) -> bool:
        """The receiver returned ``False``."""
        work = self._work
        return work is not None and work.returned is False

    def __repr__(self) -> str:
        return f"<ReceiverCall {self.receiver_name} {self.duration_ns / 1e6:.3f}ms>"


class CommitCallback:
    """A ``transaction.on_commit()`` callback a receiver registered, and what became of it."""

    __slots__ = ("_hook", "_origin")

    #: The values of :attr:`outcome`.
    OUTCOMES = (PENDING, RAN, DISCARDED, LOST, REFUSED)

    def __init__(self, hook: Hook, origin: int):
        self._hook = hook
        self._origin = origin

    @property
    def name(self) -> str:
        """``module.qualname`` of the callback."""
        return self._hook.name

    @property
    def using(self) -> str:
        """The database alias it was registered on."""
        return self._hook.alias

    @property
    def robust(self) -> bool:
        """Registered with ``robust=True``: Django logs its exception instead of raising it."""
        return self._hook.robust

    @property
    def outcome(self) -> str:
        """``"ran"``; ``"discarded"`` (the transaction or savepoint it was queued in rolled
        back); ``"lost"`` (an earlier callback of the same commit raised, so Django ran no more);
        ``"pending"`` (still queued when the recording ended); or ``"refused"`` (``on_commit()``
        raised, under manual transaction management)."""
        return self._hook.outcome

    @property
    def immediate(self) -> bool:
        """Run at once by ``on_commit()``: no transaction was open."""
        return self._hook.immediate

    @property
    def start_ns(self) -> int | None:
        """Nanoseconds from the recording's start to when it started running (None if it did
        not run)."""
        hook = self._hook
        return hook.started_ns - self._origin if hook.outcome == RAN else None

    @property
    def duration_ns(self) -> int:
        """How long it ran (0 if it did not run)."""
        return self._hook.duration_ns

    @property
    def error(self) -> str | None:
        """``"ExcType: message"`` if it raised (when robust, Django logged it and carried on)."""
        return self._hook.error

    def __repr__(self) -> str:
        return f"<CommitCallback {self.name} {self.outcome}>"


class Send:
    """One send of one signal, with the receiver calls it made; or, for sends that reached no
    receiver, a run of alike ones (:attr:`count`)."""

    __slots__ = ("_calls", "_recording", "_row")

    def __init__(self, recording: Recording, row: list[Any]):
        self._recording = recording
        self._row = row
        self._calls: list[ReceiverCall] | None = None

    @property
    def signal(self) -> Any:
        """The signal object."""
        return self._row[S_SIGNAL]

    @property
    def sender(self) -> str:
        """A label of the sender, taken when it was sent (``auth.User``, ``None``, ...)."""
        sender: str = self._row[S_SENDER]
        return sender

    @property
    def start_ns(self) -> int:
        """Nanoseconds from the recording's start to the send's start."""
        start: int = self._row[S_START]
        return start

    @property
    def duration_ns(self) -> int:
        """How long the send took, receivers included."""
        row = self._row
        end: int = row[S_END]
        return end - row[S_START] if end else 0  # 0 while it runs

    @property
    def in_atomic(self) -> bool | None:
        """For sends with a ``using`` argument (model signals): whether that database connection
        was inside ``transaction.atomic()``; None otherwise."""
        value: bool | None = self._row[S_IN_ATOMIC]
        return value

    @property
    def quiet(self) -> bool:
        """The send reached no receiver."""
        return bool(self._row[S_QUIET] > 0)

    @property
    def count(self) -> int:
        """How many sends this entry stands for: 1, or for alike sends that reached no receiver
        (the same signal, sender, parent call and text arguments, whatever was sent between
        them), how many there were. The entry is at the first one's place, with its arguments."""
        quiet: int = self._row[S_QUIET]
        return quiet or 1

    @property
    def parent(self) -> ReceiverCall | None:
        """The receiver call this send was made from, or None."""
        parent = self._row[S_PARENT]
        return None if parent is None else self._recording._call_view(parent)

    @property
    def depth(self) -> int:
        """0 for a send not made inside a receiver, else one more than its parent's send."""
        return self._recording._depth(self._row)

    @property
    def calls(self) -> list[ReceiverCall]:
        """Receiver calls, in the order they started."""
        calls = self._calls
        if calls is None:
            recording = self._recording
            calls = recording._calls_of(self._row)
            if not recording.active:  # final: keep it
                self._calls = calls
        return calls

    @property
    def library(self) -> str:
        """``"django"`` or ``"blinker"``."""
        library: str = self._row[S_KIND][0]
        return library

    @property
    def robust(self) -> bool:
        """Sent with ``send_robust``/``asend_robust``."""
        return bool(self._row[S_KIND][1])

    @property
    def is_async(self) -> bool:
        """Sent with ``asend``/``asend_robust`` (or blinker's ``send_async``)."""
        return bool(self._row[S_KIND][2])

    @property
    def signal_name(self) -> str:
        """Dotted path of the signal, e.g. ``django.db.models.signals.post_save``."""
        from signal_panel.registry import signal_name

        return signal_name(self.signal)

    @property
    def arguments(self) -> dict[str, Any]:
        """What was kept of each keyword argument when the signal was sent, by name: builtin
        values as they were, other values as tagged tuples of plain values (see
        ``signal_panel.naming.snapshot``). Nothing of the program's objects is kept."""
        args = self._row[S_ARGS]
        if not args:
            return {}
        return {args[i]: args[i + 1] for i in range(0, len(args), 2)}

    @property
    def kwargs(self) -> dict[str, str]:
        """Safe one-line summaries of the keyword arguments as they were when the signal was
        sent, by name. Values of secret-looking names are masked, in nested dicts too."""
        args = self._row[S_ARGS]
        if not args:
            return {}
        config = self._recording.config
        limit, secret = config.summary_length, config.secret_pattern
        describe, is_secret = naming.describe, naming.is_secret
        shown: dict[str, str] = {}
        for at in range(0, len(args), 2):
            name, kept = args[at], args[at + 1]
            shown[name] = (
                naming.mask() if is_secret(name, secret) else describe(kept, limit, secret)
            )
        # pre_init's positional ``args`` are field values of the sender model, in field order:
        # mask those of fields whose names are secret (a password hash, session data).
        if "args" in shown and self.signal is pre_init:
            shown["args"] = naming.describe_model_args(
                self.sender, self.arguments["args"], limit, secret
            )
        return shown

    @property
    def callsite(self) -> str:
        """``file:line in function`` of the first frame of the project that led to the send."""
        return naming.format_callsite(self._row[S_CODE], self._row[S_LASTI])

    def __repr__(self) -> str:
        return f"<Send {self.signal_name} sender={self.sender} calls={len(self.calls)}>"


class ConnectEvent:
    """A ``connect()`` or ``disconnect()`` made while the recording was active."""

    __slots__ = (
        "action",
        "at_start_up",
        "by_project",
        "callsite",
        "receiver_name",
        "signal",
        "start_ns",
    )

    def __init__(
        self,
        action: str,
        signal: object,
        receiver_name: str,
        callsite: str,
        at: int,
        at_start_up: bool = False,
        by_project: bool = True,
    ):
        self.action = action
        self.signal = signal
        self.receiver_name = receiver_name
        #: ``file:line in function`` of the code that called ``connect()``/``disconnect()``.
        self.callsite = callsite
        self.start_ns = at
        #: Made while a module was being imported, or by Django's deferred connection of a
        #: receiver for an ``"app.Model"`` sender: start-up work, not the program's serving.
        self.at_start_up = at_start_up
        #: Called by the project's own code (not Django's test client, nor a library setting
        #: itself up lazily on its first use).
        self.by_project = by_project

    @property
    def signal_name(self) -> str:
        from signal_panel.registry import signal_name

        return signal_name(self.signal)


class Recording(Tape):
    """Everything signal-related that happened in one context while recording.

    ``sends`` lists every send in the order the sends started, nested ones included; follow
    ``Send.calls`` and ``ReceiverCall.sends`` for the tree, or use :attr:`roots`.
    """

    __slots__ = (
        "__weakref__",
        "_analysis",
        "_call_views",
        "_calls_by_send",
        "_calls_done",
        "_depths",
        "_problems",
        "_send_views",
        "_sends_by_call",
        "_sends_done",
        "_view_of",
    )

    def __init__(self, config: Config | None = None):
        super().__init__(config if config is not None else get_config())
        self._problems: list[Problem] | None = None
        #: What analysis keeps of a finished recording, by the name of what it is.
        self._analysis: dict[str, Any] = {}
        # Views and the tree, built when read (see _index).
        self._sends_done = 0
        self._calls_done = 0
        self._send_views: list[Send] = []
        self._call_views: list[ReceiverCall] = []
        self._view_of: dict[int, Any] = {}
        self._calls_by_send: dict[int, list[ReceiverCall]] = {}
        self._sends_by_call: dict[int, list[Send]] = {}
        # id(send row) -> its depth, worked out when first read (see _depth)
        self._depths: dict[int, int] = {}

    # -- reading ---------------------------------------------------------------------------------

    def _index(self) -> None:
        """Make views for the rows appended since the last read, and file them in the tree."""
        send_rows, call_rows = self.send_rows, self.call_rows
        if len(send_rows) == self._sends_done and len(call_rows) == self._calls_done:
            return
        # Calls first: a send made inside a call is filed under the call's view.
        for row in call_rows[self._calls_done :]:
            call = ReceiverCall(self, row)
            self._call_views.append(call)
            self._view_of[id(row)] = call
            self._calls_by_send.setdefault(id(row[C_SEND]), []).append(call)
        for row in send_rows[self._sends_done :]:
            send = Send(self, row)
            self._send_views.append(send)
            self._view_of[id(row)] = send
            parent = row[S_PARENT]
            if parent is not None:
                self._sends_by_call.setdefault(id(parent), []).append(send)
        self._sends_done, self._calls_done = len(send_rows), len(call_rows)

    def _depth(self, send_row: list[Any]) -> int:
        """0 for a send not made inside a receiver, else one more than its parent's send: found
        by walking up to the nearest send whose depth is known (rows keep their parent, not
        their depth: a row is a field shorter)."""
        depths = self._depths
        known = depths.get(id(send_row))
        if known is not None:
            return known
        path: list[list[Any]] = []
        row: list[Any] | None = send_row
        depth = -1
        while row is not None:
            known = depths.get(id(row))
            if known is not None:
                depth = known
                break
            path.append(row)
            parent = row[S_PARENT]
            row = None if parent is None else parent[C_SEND]
        for each in reversed(path):
            depth += 1
            depths[id(each)] = depth
        return depth

    def _send_view(self, row: list[Any]) -> Send:
        self._index()
        view: Send = self._view_of[id(row)]
        return view

    def _call_view(self, row: list[Any]) -> ReceiverCall:
        self._index()
        view: ReceiverCall = self._view_of[id(row)]
        return view

    # The tree's lists are read very often (the panel reads each send's calls several times), so
    # the staleness check is written out and the lists are returned as they are kept: callers
    # read them, never change them.

    def _calls_of(self, send_row: list[Any]) -> list[ReceiverCall]:
        if len(self.call_rows) != self._calls_done or len(self.send_rows) != self._sends_done:
            self._index()
        return self._calls_by_send.get(id(send_row)) or _NONE

    def _children(self, call_row: list[Any]) -> list[Send]:
        if len(self.call_rows) != self._calls_done or len(self.send_rows) != self._sends_done:
            self._index()
        return self._sends_by_call.get(id(call_row)) or _NONE

    @property
    def sends(self) -> list[Send]:
        """Every stored send, in the order the sends started, nested ones included. A run of
        alike sends that reached no receiver is one :class:`Send` (see :attr:`Send.count`)."""
        self._index()
        return list(self._send_views)

    @property
    def calls(self) -> list[ReceiverCall]:
        """Every stored receiver call, in the order the calls started."""
        self._index()
        return list(self._call_views)

    @property
    def send_count(self) -> int:
        """Sends made, each send of a folded run counted, stored or not."""
        folded: int = sum(row[S_QUIET] - 1 for row in self.send_rows if row[S_QUIET] > 1)
        return len(self.send_rows) + folded + self.dropped_sends

    @property
    def connections(self) -> list[ConnectEvent]:
        """``connect()``/``disconnect()`` calls made while recording."""
        return [ConnectEvent(*event) for event in self.connection_rows]

    @property
    def truncated(self) -> bool:
        """True when calls or sends were counted but not stored because ``MAX_CALLS`` was
        reached."""
        return self.dropped_calls > 0 or self.dropped_sends > 0

    @property
    def roots(self) -> list[Send]:
        """The sends not made inside a receiver."""
        return [send for send in self.sends if send._row[S_PARENT] is None]

    def __contains__(self, send: object) -> bool:
        return isinstance(send, Send) and send._recording is self

    @property
    def total_receiver_ns(self) -> int:
        """Time spent in receivers, counting nested receivers once (inside their parent)."""
        return sum(call_ns(row) for row in self.call_rows if row[C_SEND][S_PARENT] is None)

    @property
    def problems(self) -> list[Problem]:
        """Findings about this recording (see ``signal_panel.problems``), worst first."""
        if self._problems is None or self.active:
            problems: list[Problem] = _provided["problems"](self)
            if self.active:
                return problems
            self._problems = problems
        return self._problems

    def format_tree(self, *, color: bool | None = None) -> str:
        """The timeline as indented text (see ``signal_panel.text``)."""
        text: str = _provided["format_tree"](self, color=color)
        return text

    def __repr__(self) -> str:
        return f"<Recording sends={len(self.send_rows)} calls={self.call_count}>"


def start(recording: Recording) -> object:
    """Make ``recording`` active in the current context; returns a token for :func:`stop`."""
    return tracking.start(recording)


def stop(recording: Recording, token: object) -> None:
    """End ``recording``; the context gets back the state it had before :func:`start`."""
    tracking.stop(recording, token)


@contextmanager
def record_signals(config: Config | None = None) -> Iterator[Recording]:
    """Record every signal sent in the current context while the block runs.

    Usable in sync and async code (``with record_signals() as rec:`` inside a coroutine records
    what that coroutine and the tasks it starts send, until the block ends). Recordings nest: each
    active recording sees every send made while it is active.
    """
    recording = Recording(config)
    token = start(recording)
    try:
        yield recording
    finally:
        stop(recording, token)
