"""Findings about the database side of receivers and about receivers that depend on ``DEBUG``.

Problem finders registered with ``signal_panel.problems`` (they run after the recording, when
somebody reads ``Recording.problems`` or the panel generates its stats):

- ``repeated_query``: a receiver call ran the same SQL (parameters left out) at least
  ``SIGNAL_PANEL["REPEATED_QUERY_THRESHOLD"]`` times, a likely N+1.
- ``vanishing_receiver``: a receiver connected weakly that nothing but Django's ``DEBUG``-only
  signature-check cache keeps alive; with ``DEBUG=False`` it is garbage-collected at once and never
  runs. Reported when it ran during the recording, or was connected while recording.

``bypassed_receivers`` problems come from events the database instrumentation adds to the
recording (``signal_panel/tracking/database.py``), and ``connect_during_request`` from
``Recording.connections``; both are turned into problems by ``signal_panel.problems``.
"""

from __future__ import annotations

import gc
import re
import sys
import threading
import types
import weakref
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from django.dispatch import Signal

from signal_panel import naming, problems, registry
from signal_panel.problems import Problem, grouped_problem, works
from signal_panel.tracking.rows import C_SEND, S_SIGNAL

if TYPE_CHECKING:
    from signal_panel.recording import ReceiverCall, Recording

__all__ = ["kept_alive_only_by_debug", "register", "vanishing_in_production"]

# -- repeated queries --------------------------------------------------------------------------

# ``IN (%s, %s, ...)`` lists differ in length from call to call; they are one shape.
_IN_LIST = re.compile(r"\bIN \((?:%s, )*%s\)", re.IGNORECASE)
_SQL_SHOWN = 300


def query_shape(sql: str) -> str:
    """The shape two queries share when only their parameters differ."""
    return _IN_LIST.sub("IN (…)", sql)


def _repeated_queries(recording: Recording) -> Iterator[Problem]:
    threshold = recording.config.repeated_query_threshold
    if not any(work is not None and work.queries >= threshold for work in works(recording)):
        return
    grouped: dict[tuple[Any, str], Problem] = {}
    for send in recording.sends:
        for call in send.calls:
            shapes = call.query_shapes
            if not shapes or call.queries < threshold:
                continue
            merged: dict[str, int] = {}
            for sql, count in shapes.items():
                shape = query_shape(sql)
                merged[shape] = merged.get(shape, 0) + count
            for shape, count in merged.items():
                if count < threshold:
                    continue
                problem = grouped_problem(
                    grouped,
                    (call.logical_key, shape),
                    "repeated_query",
                    call.location,
                    sql=shape,
                    count=0,
                    calls=0,
                    threshold=threshold,
                )
                problem.calls.append(call)
                problem.sends.append(call.send)
                problem.details["count"] = max(problem.details["count"], count)
                problem.details["calls"] += 1
    for problem in grouped.values():
        details = problem.details
        sql = details["sql"]
        if len(sql) > _SQL_SHOWN:
            sql = f"{sql[:_SQL_SHOWN]}…"
        calls = "" if details["calls"] == 1 else f" (in {details['calls']} calls)"
        problem.message = (
            f"{problem.calls[0].receiver_name} ran the same query {details['count']} times in one "
            f"call{calls}, a likely N+1: {sql}"
        )
        yield problem


# -- receivers that only DEBUG keeps alive -----------------------------------------------------

# With DEBUG=True, Signal.connect() checks the receiver's signature through
# django.utils.inspect._get_func_parameters, an lru_cache(maxsize=512) called as
# ``_get_func_parameters(func, remove_first=...)`` with the receiver itself (for a bound method,
# its __func__). Its key, ``(func, <kwd mark>, "remove_first", False)`` in the C implementation of
# lru_cache (a list with the same items in the pure Python one), holds the receiver strongly.
# This is the one place that knows the shape of that key.
_CACHE_KEY_ARGUMENT = "remove_first"


def _is_signature_cache_key(referrer: object, obj: object) -> bool:
    if not isinstance(referrer, (tuple, list)) or len(referrer) < 2 or referrer[0] is not obj:
        return False
    rest = referrer[1:]
    return _CACHE_KEY_ARGUMENT in rest or list(rest) == [False]


_verdicts: dict[int, tuple[weakref.ref[Any], bool]] = {}
_verdicts_lock = threading.Lock()
_VERDICTS_LIMIT = 4096


def _held_only_by_signature_cache(obj: object) -> bool:
    """Whether every strong reference to ``obj`` (besides the caller's) is a signature-cache key.

    Scanning the heap for referrers costs milliseconds, so the answer is kept per object.
    """
    key = id(obj)
    with _verdicts_lock:
        entry = _verdicts.get(key)
        if entry is not None and entry[0]() is obj:
            return entry[1]
    # Plain loops: a comprehension would close over ``obj`` and add a cell to its referrers.
    verdict = False
    for referrer in gc.get_referrers(obj):
        if isinstance(referrer, types.FrameType):
            continue
        if not _is_signature_cache_key(referrer, obj):
            verdict = False
            break
        verdict = True
    try:
        ref = naming._weak(obj, lambda _ref: _verdicts.pop(key, None))
    except TypeError:
        return verdict
    with _verdicts_lock:
        if len(_verdicts) > _VERDICTS_LIMIT:
            _verdicts.clear()
        _verdicts[key] = (ref, verdict)
    return verdict


def _kept_by_its_module(obj: object) -> bool:
    if type(obj) is not types.FunctionType:
        return False
    module = sys.modules.get(obj.__module__)
    return module is not None and getattr(module, obj.__name__, None) is obj


def kept_alive_only_by_debug(receiver_ref: object) -> bool:
    """Whether the weakly connected receiver behind ``receiver_ref`` (a ``weakref.ref`` from
    ``Signal.receivers``) is alive only because ``DEBUG=True`` made ``connect()`` put it in Django's
    signature-check cache. Such a receiver is garbage-collected right after ``connect()`` when
    ``DEBUG=False``, and never runs. Bound methods (``WeakMethod``) live as long as their instance
    either way, so they never qualify. Never raises."""
    try:
        if type(receiver_ref) is not weakref.ReferenceType:
            return False
        obj = receiver_ref()
        if obj is None or _kept_by_its_module(obj):
            return False
        # Counted the same way, a fresh object held by one local gives the baseline: exactly one
        # reference more than that is a candidate (the cache key), confirmed by its referrers.
        count = sys.getrefcount(obj)
        probe = object()
        baseline = sys.getrefcount(probe)
        if count != baseline + 1:
            return False
        return _held_only_by_signature_cache(obj)
    except Exception:
        return False


def _kept_only_by_debug(signal: Signal) -> Iterator[tuple[Any, Any]]:
    """``(lookup key, receiver)`` of each receiver of ``signal`` only ``DEBUG=True`` keeps alive."""
    # Signal.receivers entries start with (lookup_key, receiver_ref) on every Django version.
    for entry in list(signal.receivers):
        # Checked before taking the receiver out of its reference: that would count as one more.
        if kept_alive_only_by_debug(entry[1]):
            receiver = entry[1]()
            if receiver is not None:
                yield entry[0], receiver


def vanishing_in_production(signal: object) -> set[tuple[str, str | None]]:
    """``(receiver name, connection place)`` of each receiver of the Django ``signal`` that only
    ``DEBUG=True`` keeps alive (see :func:`kept_alive_only_by_debug`), as the registry listing
    names them; empty for any other signal. Never raises."""
    found: set[tuple[str, str | None]] = set()
    if not isinstance(signal, Signal):
        return found
    try:
        for lookup_key, receiver in _kept_only_by_debug(signal):
            connection = registry.connection_for(signal, lookup_key)
            place = connection.location if connection is not None else None
            found.add((naming.receiver_info(receiver).name, place))
    except Exception:
        pass
    return found


def _vanishing_receivers(recording: Recording) -> Iterator[Problem]:
    # Only the receivers this recording has to do with: those that ran in it, and those connected
    # while it recorded. Checking every receiver of every known signal would report a receiver
    # connected at start-up on every page, and scanning for those signals costs milliseconds per
    # request; the registry listing shows them all, each with its own badge.
    signals: dict[int, Signal] = {}
    called = {id(row[C_SEND]) for row in recording.call_rows}
    for row in recording.send_rows:  # in the order of the sends, as the problems are
        signal = row[S_SIGNAL]
        if id(row) in called and id(signal) not in signals and isinstance(signal, Signal):
            signals[id(signal)] = signal
    connected_by_signal: dict[int, set[str]] = {}
    for event in recording.connections:
        if event.action == "connect" and isinstance(event.signal, Signal):
            signals[id(event.signal)] = event.signal
            connected_by_signal.setdefault(id(event.signal), set()).add(event.receiver_name)
    # Each receiver is let go before the next is checked: one held would count as a reference.
    if not any(next(_kept_only_by_debug(signal), None) for signal in signals.values()):
        return  # most recordings
    calls_by_signal: dict[int, list[ReceiverCall]] = {}
    for send in recording.sends:
        if send.calls and isinstance(send.signal, Signal):
            calls_by_signal.setdefault(id(send.signal), []).extend(send.calls)
    for key, signal in signals.items():
        for lookup_key, receiver in _kept_only_by_debug(signal):
            info = naming.receiver_info(receiver)
            calls = [
                call
                for call in calls_by_signal.get(key, [])
                if call.logical_key == info.logical_key
            ]
            if not calls and info.name not in connected_by_signal.get(key, ()):
                continue
            signal_name = registry.signal_name(signal)
            connection = registry.connection_for(signal, lookup_key)
            connected_at = connection.location if connection is not None else None
            where = connected_at or "a place unknown (connected before signal_panel was imported)"
            yield Problem(
                "vanishing_receiver",
                f"{info.name} is connected weakly to {signal_name} at {where}, and only the "
                "signature-check cache of DEBUG=True keeps it alive: with DEBUG=False it is "
                "garbage-collected and never runs (connect it with weak=False, or keep a "
                "reference to it)",
                sends=[call.send for call in calls],
                calls=calls,
                locations=[place for place in (connected_at, info.location) if place],
                details={
                    "signal": signal_name,
                    "receiver": info.name,
                    "connected_at": connected_at,
                    "definition": info.location,
                },
            )


# -- on_commit work lost to a rollback ---------------------------------------------------------


def _discarded_on_commit(recording: Recording) -> Iterator[Problem]:
    """A receiver that ran inside ``atomic()`` queued ``on_commit`` work that never ran: the
    transaction rolled back (or an earlier callback raised). Its database writes were undone with
    it, while whatever it did outside the database (an email sent, a cache set) was not, and the
    work it queued for after the commit is lost."""
    if not any(work is not None and work.hooks for work in works(recording)):
        return
    grouped: dict[tuple[Any, str, str], Problem] = {}
    for call in recording.calls:
        work = call._work
        if work is None or not work.hooks:  # most calls queue nothing
            continue
        for callback in call.commit_callbacks:
            if callback.outcome not in ("discarded", "lost"):
                continue
            key = (call.logical_key, callback.name, callback.outcome)
            problem = grouped_problem(
                grouped,
                key,
                "discarded_on_commit",
                call.location,
                callback=callback.name,
                outcome=callback.outcome,
                receiver=call.receiver_name,
                count=0,
            )
            problem.details["count"] += 1
            if call not in problem.calls:
                problem.calls.append(call)
                problem.sends.append(call.send)
    for (_key, name, outcome), problem in grouped.items():
        call = problem.calls[0]
        count = problem.details["count"]
        times = "" if count == 1 else f" ({count} times)"
        if outcome == "discarded":
            what = (
                "was discarded: the transaction it was queued in rolled back, so it never ran; "
                "the receiver's database writes were undone with it, but not anything it did "
                "outside the database"
            )
        else:
            what = "never ran: an earlier on_commit callback of the same commit raised"
        times = "" if count == 1 else f", {count} times"
        problem.message = (
            f"{name}, queued with on_commit() by {call.receiver_name} "
            f"({call.send.signal_name.rsplit('.', 1)[-1]} for {call.send.sender}{times}), {what}"
        )
        yield problem


def register() -> None:
    """Add this module's finders to ``signal_panel.problems``. Idempotent."""
    problems.register_finder(_repeated_queries)
    problems.register_finder(_vanishing_receivers)
    problems.register_finder(_discarded_on_commit)
