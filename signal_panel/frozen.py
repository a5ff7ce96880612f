"""A finished recording as the toolbar stores it, and read back.

The toolbar asks for a panel's stats while the response is on its way (``generate_stats``) and
keeps them as JSON in its store; the panel's HTML is asked for later, when somebody opens the
panel, maybe in another process (the history panel, ``DatabaseStore``). So at response time the
panel only copies the recording's rows into plain lists (:func:`freeze`): one pass, by index,
without the :class:`~signal_panel.recording.Send` and ``ReceiverCall`` views, with the arguments
kept as :func:`naming.portable <signal_panel.naming.portable>` snapshots (secrets masked before
they reach the store). Building the timeline, the problem links and the receivers table waits for
the panel to be opened (``signal_panel.stats``), over the objects :func:`thaw` makes.

The lists' fields are named by the ``F_*`` and ``G_*`` constants below. Indexes stand for the
objects the rows held: a send's parent call, a call's send, a signal, a receiver.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from django.db.models.signals import pre_init

from signal_panel import naming, registry
from signal_panel.tracking.rows import (
    C_ASYNC,
    C_END,
    C_ERROR,
    C_INFO,
    C_SEND,
    C_START,
    C_WORK,
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
)

if TYPE_CHECKING:
    from signal_panel.problems import Problem
    from signal_panel.recording import Recording

__all__ = ["FORMAT", "FrozenRecording", "UnreadableRecording", "freeze", "plain_data", "thaw"]

#: The layout :func:`freeze` writes, stored with it: the toolbar's ``DatabaseStore`` keeps
#: requests across restarts and upgrades, and :func:`thaw` reads its own layout only.
FORMAT = 2


class UnreadableRecording(ValueError):
    """A frozen recording :func:`thaw` cannot read: stored by another version of the package
    (another :data:`FORMAT`), or damaged."""


# A frozen send.
(
    F_SIGNAL,  # index into "signals"
    F_SENDER,  # the sender's label
    F_ARGS,  # [name, portable snapshot, ...] or None
    F_PARENT,  # index of the call it was sent from, or -1
    F_KIND,  # index into "kinds": [library, robust, is_async]
    F_CALLSITE,  # "file:line in function", or ""
    F_START,
    F_END,  # 0 if it had not ended
    F_IN_ATOMIC,
    F_QUIET,  # 0, or how many alike sends with no receiver it stands for
) = range(10)

# A frozen receiver call: the first five fields, and the others only when one of them is not
# its default (most calls raise nothing, run no query and return nothing).
(
    G_SEND,  # index into "sends"
    G_RECEIVER,  # index into "receivers": [name, location, logical key number, package]
    G_ASYNC,
    G_START,
    G_END,
    G_ERROR,  # "ExcType: message" or None
    G_SWALLOWED,
    G_QUERIES,
    G_QUERY_NS,
    G_ON_COMMIT,
    G_CALLBACKS,  # [[name, outcome, immediate, duration ns, error], ...] or None
    G_RETURNED,  # what it returned, described, or None
) = range(12)
#: The fields G_ERROR to G_RETURNED of a call that left them all at their defaults.
_CALL_DEFAULTS: tuple[Any, ...] = (None, False, 0, 0, 0, None, None)


def plain_data(value: Any, depth: int = 0) -> Any:
    """A JSON-able copy of ``value``, such as a ``Problem.details`` (anything else becomes its
    ``str``)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if depth > 4:
        return str(value)
    if isinstance(value, dict):
        return {str(k): plain_data(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [plain_data(v, depth + 1) for v in value]
    return str(value)


def _portable_arguments(
    args: tuple[Any, ...],
    signal: object,
    sender: str,
    limit: int,
    secret: Any,
    verdicts: dict[str, bool],
) -> tuple[Any, ...] | list[Any]:
    """``(name, snapshot, ...)`` of a send's arguments with secrets masked and every snapshot
    portable (:func:`naming.portable <signal_panel.naming.portable>`): ``args`` itself when
    nothing needs to change, as for most sends (JSON writes the tuple as a list). ``verdicts``
    keeps :func:`naming.is_secret <signal_panel.naming.is_secret>`'s answer per name for the
    recording: asking it again for each send's names cost a quarter of the freezing."""
    kept: list[Any] | None = None
    for at in range(0, len(args), 2):
        name, value = args[at], args[at + 1]
        masked = verdicts.get(name)
        if masked is None:
            masked = verdicts[name] = naming.is_secret(name, secret)
        if masked:
            value = (naming._T_SHOWN, naming.mask())
        else:
            if type(value) in naming._JSON_SCALARS:  # most values: nothing to do
                continue
            if name == "args" and signal is pre_init:
                value = naming.mask_model_args(sender, value, secret)
            value = naming.portable(value, limit, secret)
            if value is args[at + 1]:
                continue
        if kept is None:
            kept = list(args)
        kept[at + 1] = value
    return args if kept is None else kept


def freeze(recording: Recording, problems: list[Problem]) -> dict[str, Any]:
    """The rows of the finished ``recording`` and its ``problems``, as plain JSON data."""
    config = recording.config
    limit, secret = config.summary_length, config.secret_pattern
    send_rows, call_rows = recording.send_rows, recording.call_rows
    send_at = {id(row): at for at, row in enumerate(send_rows)}
    call_at = {id(row): at for at, row in enumerate(call_rows)}

    verdicts: dict[str, bool] = {}
    signals: list[str] = []
    signal_at: dict[int, int] = {}
    # (id(code), offset) -> "file:line in function": the rows hold the code while this runs.
    callsites: dict[tuple[int, int], str] = {}
    sends: list[list[Any]] = []
    kinds: list[list[Any]] = []
    kind_at: dict[Any, int] = {}
    for row in send_rows:
        signal = row[S_SIGNAL]
        number = signal_at.get(id(signal))
        if number is None:
            number = signal_at[id(signal)] = len(signals)
            signals.append(registry.signal_name(signal))
        args = row[S_ARGS]
        if args:
            args = _portable_arguments(args, signal, row[S_SENDER], limit, secret, verdicts)
        parent = row[S_PARENT]
        kind = row[S_KIND]
        kind_number = kind_at.get(kind)
        if kind_number is None:
            kind_number = kind_at[kind] = len(kinds)
            library, robust, is_async = kind
            kinds.append([library, bool(robust), bool(is_async)])
        code = row[S_CODE]
        site = (id(code), row[S_LASTI])
        callsite = callsites.get(site)
        if callsite is None:
            callsite = callsites[site] = naming.format_callsite(code, row[S_LASTI])
        sends.append(
            [
                number,
                row[S_SENDER],
                args or None,
                -1 if parent is None else call_at.get(id(parent), -1),
                kind_number,
                callsite,
                row[S_START],
                row[S_END],
                row[S_IN_ATOMIC],
                row[S_QUIET],
            ]
        )

    folding = config.fold_library_receivers
    receivers: list[list[Any]] = []
    receiver_at: dict[int, int] = {}
    key_at: dict[Any, int] = {}
    calls: list[list[Any]] = []
    for row in call_rows:
        send = send_at.get(id(row[C_SEND]))
        if send is None:
            continue
        info = row[C_INFO]
        number = receiver_at.get(id(info))
        if number is None:
            number = receiver_at[id(info)] = len(receivers)
            package = naming.library_package(info) if folding else None
            key = key_at.setdefault(info.logical_key, len(key_at))
            receivers.append([info.name, info.location, key, package])
        frozen = [send, number, bool(row[C_ASYNC]), row[C_START], row[C_END]]
        error = row[C_ERROR]
        work = row[C_WORK]
        if error is None and work is None:
            calls.append(frozen)
            continue
        frozen += _CALL_DEFAULTS
        if error is not None:
            frozen[G_ERROR], frozen[G_SWALLOWED] = error[0], bool(error[1])
        if work is not None:
            frozen[G_QUERIES] = work.queries
            frozen[G_QUERY_NS] = work.query_ns
            frozen[G_ON_COMMIT] = work.on_commit
            if work.hooks:
                frozen[G_CALLBACKS] = [
                    [hook.name, hook.outcome, hook.immediate, hook.duration_ns, hook.error]
                    for hook in work.hooks
                ]
            if work.returned is not None:
                frozen[G_RETURNED] = naming.describe(work.returned, limit, secret)
        calls.append(frozen)

    return {
        "format": FORMAT,
        "limit": limit,
        "duration_ns": recording.duration_ns,
        "fold_library_receivers": folding,
        "signals": signals,
        "kinds": kinds,
        "receivers": receivers,
        "sends": sends,
        "calls": calls,
        "problems": [
            [
                problem.kind,
                problem.message,
                [str(location) for location in problem.locations],
                plain_data(problem.details),
                [call_at[id(call._row)] for call in problem.calls if id(call._row) in call_at],
                [send_at[id(send._row)] for send in problem.sends if id(send._row) in send_at],
            ]
            for problem in problems
        ],
    }


# -- read back ----------------------------------------------------------------------------------


class FrozenCallback:
    """An ``on_commit`` callback of a frozen call (what ``CommitCallback`` tells)."""

    __slots__ = ("duration_ns", "error", "immediate", "name", "outcome")

    def __init__(self, fields: list[Any]) -> None:
        self.name, self.outcome, self.immediate, self.duration_ns, self.error = fields


class FrozenSend:
    """A send read back: the attributes of a :class:`~signal_panel.recording.Send` the panel
    shows. ``signal`` is the signal's name, one object per signal of the recording."""

    __slots__ = (
        "arguments",
        "calls",
        "callsite",
        "count",
        "depth",
        "duration_ns",
        "in_atomic",
        "is_async",
        "library",
        "limit",
        "parent",
        "robust",
        "sender",
        "signal",
        "start_ns",
    )

    def __init__(
        self, fields: list[Any], signals: list[str], kinds: list[list[Any]], limit: int
    ) -> None:
        self.signal: str = signals[fields[F_SIGNAL]]
        self.sender = fields[F_SENDER]
        self.arguments = fields[F_ARGS]
        self.library, self.robust, self.is_async = kinds[fields[F_KIND]]
        self.callsite = fields[F_CALLSITE]
        start, end = fields[F_START], fields[F_END]
        self.start_ns = start
        self.duration_ns = end - start if end else 0
        self.in_atomic = fields[F_IN_ATOMIC]
        self.count = fields[F_QUIET] or 1
        self.limit = limit
        self.parent: FrozenCall | None = None
        self.depth = 0
        self.calls: list[FrozenCall] = []

    @property
    def signal_name(self) -> str:
        return self.signal

    @property
    def kwargs(self) -> dict[str, str]:
        """The arguments' one-line summaries, by name (masked when frozen)."""
        args = self.arguments
        if not args:
            return {}
        describe, limit = naming.describe, self.limit
        return {args[at]: describe(args[at + 1], limit) for at in range(0, len(args), 2)}


class FrozenCall:
    """A receiver call read back: the attributes of a ``ReceiverCall`` the panel shows, plus
    ``package``: the library its receiver belongs to, "" for the project's, None when library
    receivers are not folded."""

    __slots__ = (
        "commit_callbacks",
        "duration_ns",
        "error",
        "is_async",
        "location",
        "logical_key",
        "on_commit",
        "package",
        "queries",
        "query_ns",
        "receiver_name",
        "returned",
        "send",
        "sends",
        "start_ns",
        "swallowed",
    )

    def __init__(self, fields: list[Any], send: FrozenSend, receiver: list[Any]):
        self.send = send
        self.receiver_name, self.location, self.logical_key, self.package = receiver
        self.is_async = bool(fields[G_ASYNC])
        start, end = fields[G_START], fields[G_END]
        self.start_ns = start
        self.duration_ns = end - start if end else 0
        extra: Sequence[Any] = fields[G_ERROR:] or _CALL_DEFAULTS
        error, swallowed, queries, query_ns, on_commit, callbacks, returned = extra
        self.error: str | None = error
        self.swallowed: bool = swallowed
        self.queries: int = queries
        self.query_ns: int = query_ns
        self.on_commit: int = on_commit
        self.returned: str | None = returned
        self.commit_callbacks = [FrozenCallback(each) for each in callbacks] if callbacks else []
        self.sends: list[FrozenSend] = []


class FrozenProblem:
    """A problem read back (what ``signal_panel.problems.Problem`` tells)."""

    __slots__ = ("calls", "details", "kind", "locations", "message", "sends")

    def __init__(self, fields: list[Any], sends: list[FrozenSend], calls: list[FrozenCall]) -> None:
        self.kind, self.message, self.locations, self.details = fields[:4]
        self.calls = [calls[at] for at in fields[4]]
        self.sends = [sends[at] for at in fields[5]]


class FrozenRecording:
    """What :func:`freeze` kept, as objects: sends in the order they started, each with its
    calls, each call with the sends made inside it."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.duration_ns: int = data["duration_ns"]
        self.fold_library_receivers: bool = data["fold_library_receivers"]
        signals, kinds, receivers = data["signals"], data["kinds"], data["receivers"]
        limit = data["limit"]
        sends = self.sends = [FrozenSend(fields, signals, kinds, limit) for fields in data["sends"]]
        calls: list[FrozenCall] = []
        for fields in data["calls"]:
            send = sends[fields[G_SEND]]
            call = FrozenCall(fields, send, receivers[fields[G_RECEIVER]])
            send.calls.append(call)
            calls.append(call)
        # A send's parent call started before it, so its send's depth is known by then.
        for send, fields in zip(sends, data["sends"], strict=True):
            parent = fields[F_PARENT]
            if parent >= 0:
                call = calls[parent]
                send.parent = call
                send.depth = call.send.depth + 1
                call.sends.append(send)
        self.problems = [FrozenProblem(fields, sends, calls) for fields in data["problems"]]


def thaw(data: dict[str, Any]) -> FrozenRecording:
    """The objects of what :func:`freeze` returned (after a trip through JSON, too). Raises
    :class:`UnreadableRecording` for another layout than this version's, or damaged data."""
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        found = data.get("format") if isinstance(data, dict) else type(data).__name__
        raise UnreadableRecording(f"a frozen recording of format {found!r}, not {FORMAT}")
    try:
        return FrozenRecording(data)
    except (KeyError, IndexError, TypeError, ValueError) as error:
        raise UnreadableRecording(f"a damaged frozen recording ({error!r})") from error
