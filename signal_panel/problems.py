"""Finding what is wrong in a recording: duplicates, recursion, slow receivers, errors, and more.

Runs after the recording (or when somebody reads ``Recording.problems``), never while receivers run.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from signal_panel import naming
from signal_panel import recording as _recording
from signal_panel.conf import PROBLEM_KINDS
from signal_panel.registry import connection_places, connections_of
from signal_panel.tracking.rows import (
    C_ERROR,
    C_INFO,
    C_SEND,
    C_WORK,
    S_PARENT,
    CallWork,
)

if TYPE_CHECKING:
    from signal_panel.recording import ReceiverCall, Recording, Send

__all__ = ["KINDS", "Problem", "find_problems"]

#: Every kind of problem, worst first; the panel and the text tree show them in this order.
KINDS = PROBLEM_KINDS


@dataclass
class Problem:
    """One finding. ``message`` is one line; ``sends``/``calls`` are what it is about."""

    kind: str
    message: str
    sends: list[Send] = field(default_factory=list)
    calls: list[ReceiverCall] = field(default_factory=list)
    #: ``file:line`` places worth opening (connection sites, call sites).
    locations: list[str] = field(default_factory=list)
    #: Kind-specific details (plain data), e.g. ``{"depth": 12}`` for recursion.
    details: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.kind}: {self.message}"


def _ms(ns: int) -> str:
    return f"{ns / 1e6:.1f} ms"


def grouped_problem(
    grouped: dict[Any, Problem], key: Any, kind: str, location: str, **details: Any
) -> Problem:
    """The problem filed under ``key`` in ``grouped``: made the first time the key comes up, of
    ``kind``, pointing at ``location``, with ``details``; its message is written once the
    finder has seen everything."""
    problem = grouped.get(key)
    if problem is None:
        problem = grouped[key] = Problem(kind, "", locations=[location], details=details)
    return problem


def _walk(sends: list[Send]) -> Iterator[ReceiverCall]:
    for send in sends:
        yield from send.calls


# Each finder first looks at the call rows for what it is looking for, and returns at once when
# none has it: most calls raise nothing, return nothing and are quick, and most sends reach one
# receiver or none, so most finders read no view at all (a view's properties cost more than the
# rest of the finding).


def _shares_a_send(recording: Recording) -> bool:
    """Whether two stored calls belong to one send."""
    seen: set[int] = set()
    for row in recording.call_rows:
        send = id(row[C_SEND])
        if send in seen:
            return True
        seen.add(send)
    return False


def works(recording: Recording) -> Iterator[CallWork | None]:
    """What each stored call did besides running (None for most: no query, nothing returned)."""
    for row in recording.call_rows:
        yield row[C_WORK]


def _duplicates(recording: Recording) -> Iterator[Problem]:
    if not _shares_a_send(recording):
        return
    groups: dict[tuple[str, Any], Problem] = {}
    for send in recording.sends:
        if len(send.calls) < 2:  # most sends: one receiver or none
            continue
        by_key: dict[Any, list[ReceiverCall]] = {}
        for call in send.calls:
            by_key.setdefault(call.logical_key, []).append(call)
        for key, calls in by_key.items():
            if len(calls) < 2 or _framework(calls[0]):
                continue
            signal = send.signal_name
            problem = groups.get((signal, key))
            if problem is None:
                problem = groups[(signal, key)] = Problem(
                    "duplicate_receiver", "", details={"per_send": len(calls), "sends": 0}
                )
            problem.sends.append(send)
            problem.calls.extend(calls)
            if any(c.bound for c in connections_of(send.signal, calls[0]._info)):
                problem.details["bound"] = True
            problem.details["sends"] += 1
            problem.details["per_send"] = max(problem.details["per_send"], len(calls))
            # The connections that existed when the signal was sent: not every place the registry
            # remembers for that receiver (one disconnected long ago is no duplicate of it).
            at_ns = recording.started_ns + send.start_ns
            for where in connection_places(send.signal, calls[0]._info, at_ns) or [
                "an unknown place (connected before signal_panel was imported)"
            ]:
                if where not in problem.locations:
                    problem.locations.append(where)
    during = {(event.signal_name, event.receiver_name) for event in recording.connections}
    for (signal, _key), problem in groups.items():
        first = problem.calls[0]
        places = ", ".join(problem.locations)
        why = _why_duplicate(problem, signal, during)
        problem.details["why"] = why
        problem.message = (
            f"{first.receiver_name} is connected {problem.details['per_send']} times to {signal} "
            f"and ran {problem.details['per_send']} times per send; connected at {places}"
            + (f": {why}" if why else "")
        )
        yield problem


def _framework(call: ReceiverCall) -> bool:
    """A receiver defined in Django or an instrumented library (the test client connects one per
    request, so concurrent requests run several): not the project's to fix."""
    key = call.logical_key
    path = next((part for part in key if isinstance(part, str) and os.sep in part), None)
    return path is not None and naming.instrumented_file(path)


def _why_duplicate(problem: Problem, signal: str, during: set[tuple[str, str]]) -> str:
    """Why one logical receiver is connected more than once, where the calls tell."""
    names = sorted({call.receiver_name for call in problem.calls})
    if len(names) > 1:
        modules = ", ".join(name.rsplit(".", 1)[0] for name in names)
        return f"its module is imported under two names ({modules}); import it one way only"
    name = names[0]
    if (signal, name) in during:
        return (
            "connect() ran while the program served (in a view or a method), adding a receiver "
            "each time; connect once, in AppConfig.ready()"
        )
    if problem.details.get("bound"):
        return (
            "it is a bound method, and each instance's method is another receiver; connect a "
            "function or a classmethod, or pass dispatch_uid"
        )
    if "<locals>" in name:
        return (
            "it is a function made anew by each call of the function that connects it, and each "
            "new function is another receiver; connect a module-level function, or pass "
            "dispatch_uid"
        )
    return ""


def _recursion(recording: Recording) -> Iterator[Problem]:
    # Depth-first over the tree (from an explicit stack: a chain may be as deep as the program
    # survived), keeping the receivers on the current path. A chain is reported once, at the
    # outermost call of the receiver, with the deepest nesting reached below it.
    # A receiver can only have re-entered itself if it ran inside a send made by a call of
    # itself: most recordings have no such pair, and need no walk.
    call_rows = recording.call_rows
    parents = {id(row[S_PARENT]) for row in recording.send_rows if row[S_PARENT] is not None}
    holders = {row[C_INFO].logical_key for row in call_rows if id(row) in parents}
    if not any(
        row[C_INFO].logical_key in holders for row in call_rows if row[C_SEND][S_PARENT] is not None
    ):
        return
    chains: dict[int, Problem] = {}
    path: dict[Any, tuple[ReceiverCall, int]] = {}
    # A send is entered by entering its calls (most sends reach no receiver).
    stack: list[tuple[str, Any]] = [
        ("call", call) for send in reversed(recording.roots) for call in reversed(send.calls)
    ]
    while stack:
        what, item = stack.pop()
        if what == "leave":
            key, outer = item
            if outer is None:
                del path[key]
            else:
                path[key] = outer
            continue
        call: ReceiverCall = item
        key = call.logical_key
        outer = path.get(key)
        if outer is None:
            path[key] = (call, 1)
        else:
            root, level = outer
            level += 1
            path[key] = (root, level)
            problem = chains.get(id(root))
            if problem is None:
                problem = chains[id(root)] = Problem(
                    "recursion", "", calls=[root], details={"depth": 1}
                )
                problem.sends.append(root.send)
            problem.details["depth"] = max(problem.details["depth"], level)
            problem.calls.append(call)
        stack.append(("leave", (key, outer)))
        stack.extend(
            ("call", child) for send in reversed(call.sends) for child in reversed(send.calls)
        )
    for problem in chains.values():
        root = problem.calls[0]
        problem.message = (
            f"{root.receiver_name} re-entered itself through {root.send.signal_name} "
            f"{problem.details['depth']} levels deep"
        )
        problem.locations.append(root.location)
        yield problem


def _own_ns(call: ReceiverCall) -> int:
    return call.duration_ns - sum(child.duration_ns for child in call.sends)


def _slow(recording: Recording) -> Iterator[Problem]:
    threshold = recording.config.slow_receiver_ns
    if not any(_recording.call_ns(row) >= threshold for row in recording.call_rows):
        return
    by_receiver: dict[Any, Problem] = {}
    for call in _walk(recording.sends):
        if call.duration_ns < threshold:  # its own time is no longer than that
            continue
        own = _own_ns(call)
        if own < threshold:
            continue
        problem = grouped_problem(
            by_receiver, call.logical_key, "slow_receiver", call.location, max_ns=0
        )
        problem.calls.append(call)
        problem.sends.append(call.send)
        problem.details["max_ns"] = max(problem.details["max_ns"], own)
    for problem in by_receiver.values():
        count = len(problem.calls)
        calls = "1 call" if count == 1 else f"{count} calls"
        problem.message = (
            f"{problem.calls[0].receiver_name} took {_ms(problem.details['max_ns'])} "
            f"({calls}; threshold {_ms(threshold)})"
        )
        yield problem


def _errors(recording: Recording) -> Iterator[Problem]:
    if not any(row[C_ERROR] is not None for row in recording.call_rows):
        return
    grouped: dict[tuple[bool, Any, str], Problem] = {}
    for call in _walk(recording.sends):
        if call.error is None:
            continue
        key = (call.swallowed, call.logical_key, call.error)
        kind = "swallowed_error" if call.swallowed else "raised_error"
        problem = grouped_problem(grouped, key, kind, call.location)
        problem.calls.append(call)
        problem.sends.append(call.send)
    for (swallowed, _key, error), problem in grouped.items():
        call = problem.calls[0]
        times = "" if len(problem.calls) == 1 else f" ({len(problem.calls)} times)"
        if swallowed:
            problem.message = (
                f"{call.send.signal_name}.send_robust() swallowed {error} "
                f"raised by {call.receiver_name}{times}"
            )
        else:
            problem.message = f"{call.receiver_name} raised {error}{times}"
        yield problem


#: Django's model signals: ``Model.save()``, ``delete()``, ``__init__()`` and the related
#: managers send them and ignore what their receivers return.
_MODEL_SIGNALS = frozenset(
    {"pre_init", "post_init", "pre_save", "post_save", "pre_delete", "post_delete", "m2m_changed"}
)
_MODEL_SIGNALS_MODULE = "django.db.models.signals."


def _ignored_returns(recording: Recording) -> Iterator[Problem]:
    """A receiver of a model signal that returned a value, as if that could stop the operation:
    any value from a ``pre_*`` send, ``False`` from any other (Django ignores both)."""
    if not any(work is not None and work.returned is not None for work in works(recording)):
        return
    grouped: dict[tuple[Any, str, str], Problem] = {}
    shorts: dict[int, str | None] = {}
    for call in recording.calls:
        work = call._work
        if work is None or work.returned is None:  # most calls: nothing returned
            continue
        send = call.send
        key_of = id(send.signal)
        if key_of not in shorts:
            name = send.signal_name
            found = name.removeprefix(_MODEL_SIGNALS_MODULE)
            shorts[key_of] = found if found != name and found in _MODEL_SIGNALS else None
        short = shorts[key_of]
        if short is None:
            continue
        action = send.arguments.get("action") if short == "m2m_changed" else None
        before = short.startswith("pre_") or (type(action) is str and action.startswith("pre_"))
        if before or call.returned_false:
            returned = call.returned
            if returned is None:
                continue
            key = (call.logical_key, short, returned)
            problem = grouped_problem(
                grouped,
                key,
                "ignored_return",
                call.location,
                signal=short,
                returned=returned,
                sender=send.sender,
            )
            problem.calls.append(call)
            problem.sends.append(send)
    for (_key, short, returned), problem in grouped.items():
        call = problem.calls[0]
        times = "" if len(problem.calls) == 1 else f" ({len(problem.calls)} times)"
        operation = _OPERATIONS.get(short, "the operation")
        problem.message = (
            f"{call.receiver_name} returned {returned} from {short} for {call.send.sender}"
            f"{times}, and Django ignores what model signal receivers return: {operation} went "
            "ahead. To stop it, raise an exception"
        )
        yield problem


_OPERATIONS = {
    "pre_save": "the save",
    "post_save": "the save",
    "pre_delete": "the delete",
    "post_delete": "the delete",
    "pre_init": "the instance's creation",
    "post_init": "the instance's creation",
    "m2m_changed": "the change of the relation",
}


def _connections(recording: Recording) -> Iterator[Problem]:
    # The same connect() run again (in a loop, or a view called twice by a test) is one problem.
    grouped: dict[tuple[str, int, str, str], Problem] = {}
    for event in recording.connections:
        if event.at_start_up or not event.by_project:
            # A module imported late, a lazy sender's model registered late, or Django's and the
            # libraries' own plumbing (the test client connects per request): not the project's.
            continue
        key = (event.action, id(event.signal), event.receiver_name, event.callsite)
        problem = grouped_problem(
            grouped,
            key,
            "connect_during_request",
            event.callsite,
            action=event.action,
            signal=event.signal_name,
            receiver=event.receiver_name,
            callsite=event.callsite,
            count=0,
        )
        problem.details["count"] += 1
    for problem in grouped.values():
        details = problem.details
        count = details["count"]
        times = "" if count == 1 else f" ({count} times)"
        if details["action"] == "connect":
            problem.message = (
                f"connect() of {details['receiver']} to {details['signal']} at "
                f"{details['callsite']} while recording{times}: connected as the program runs "
                "rather than once at start-up"
            )
        else:
            problem.message = (
                f"{details['action']}() of {details['receiver']} from {details['signal']} at "
                f"{details['callsite']} while recording{times}"
            )
        yield problem


def _events(recording: Recording) -> Iterator[Problem]:
    """Findings that instrumentation reported directly (``Recording.events``)."""
    for event in recording.events:
        yield Problem(
            str(event["kind"]),
            str(event["message"]),
            locations=list(event.get("locations", [])),
            details=dict(event.get("details", {})),
        )


_FINDERS: list[Callable[[Recording], Iterator[Problem]]] = [
    _errors,
    _recursion,
    _duplicates,
    _ignored_returns,
    _slow,
    _connections,
    _events,
]


def register_finder(finder: Callable[[Recording], Iterator[Problem]]) -> None:
    """Add a problem finder (used by the diagnostics of ``signal_panel.diagnostics``)."""
    if finder not in _FINDERS:
        _FINDERS.append(finder)


def _ignored(problem: Problem, patterns: tuple[str, ...]) -> bool:
    """Whether ``IGNORE_PROBLEMS`` names ``problem``: its kind, or its kind and a pattern that
    one of the receivers it is about matches."""
    for pattern in patterns:
        kind, _, receiver = pattern.partition(":")
        if kind != problem.kind:
            continue
        if not receiver:
            return True
        names = [call.receiver_name for call in problem.calls]
        names.extend(str(name) for name in problem.details.get("receivers", ()))
        if any(fnmatch.fnmatchcase(name, receiver) for name in names):
            return True
    return False


def find_problems(recording: Recording) -> list[Problem]:
    """Every problem in ``recording``, ordered by :data:`KINDS` (worst first), then by time,
    less those ``IGNORE_PROBLEMS`` names."""
    ignore = recording.config.ignore_problems
    problems = [
        problem
        for finder in _FINDERS
        for problem in finder(recording)
        if not (ignore and _ignored(problem, ignore))
    ]
    order = {kind: index for index, kind in enumerate(KINDS)}

    def first_time(problem: Problem) -> int:
        starts = [call.start_ns for call in problem.calls] + [s.start_ns for s in problem.sends]
        return min(starts, default=0)

    problems.sort(key=lambda p: (order.get(p.kind, len(order)), first_time(p)))
    return problems


# The finders that read the database work and the registry, then hand find_problems to the
# recording (Recording.problems).
from signal_panel import diagnostics, missed  # noqa: E402

diagnostics.register()
register_finder(missed.find)
_recording.provide("problems", find_problems)
