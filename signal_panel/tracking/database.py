"""Instrumentation of the database side of receivers: queries, bulk operations, ``on_commit``.

From the first recording in the process on (:mod:`signal_panel.tracking`), six methods are
replaced on Django's classes; a process that never records runs Django's code untouched. Each
replacement calls Django's function with the same arguments and returns what it returns:

- ``CursorWrapper._execute_with_wrappers``: when the context is running a recorded receiver call,
  ``_record_query`` is installed as an execute wrapper for that one query, the way
  ``connection.execute_wrapper()`` installs one (appended last, so it is the innermost wrapper and
  times the database alone; popped afterwards). It counts and times the query on that call. Every
  cursor of every database alias goes through it.
- ``BaseDatabaseWrapper.on_commit`` and ``run_and_clear_commit_hooks``: note the callbacks a
  receiver call registers and what became of each: ran (when, how long, whether it raised),
  discarded by a rollback, lost when an earlier callback raised, or still queued when the
  recording ended (see ``_Timed`` below).
- ``QuerySet.update``, ``bulk_create`` and ``bulk_update`` (and their ``a*`` twins, which only note
  where they were awaited): after Django's method returns, when the model has ``pre_save`` or
  ``post_save`` receivers connected for that model (or one of its parents), a
  ``bypassed_receivers`` event is added to each recording. Receivers connected for any sender are
  not named: nothing ties them to this model.

Nothing here runs a query: the receivers of a model are read from ``Signal.receivers``.
"""

from __future__ import annotations

import functools
import sys
import threading
import time
import types
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.utils import CursorWrapper
from django.db.models import Model, QuerySet, signals
from django.db.models.base import ModelBase
from django.db.models.deletion import Collector
from django.dispatch import Signal, dispatcher

from signal_panel import naming
from signal_panel.tracking import rows
from signal_panel.tracking.django import receiver_entries
from signal_panel.tracking.rows import State, Tape
from signal_panel.tracking.switch import MethodSwitch

__all__ = ["install", "methods"]

_state = rows.state

_perf_ns = time.perf_counter_ns
_MARK = "__signal_panel__"

#: Distinct SQL texts remembered per receiver call; past it queries are still counted and timed.
MAX_SHAPES = 200


# (class, attribute) -> the replacement, and what the attribute was when recording was last
# switched on (Django's function, or another library's patch, which we then wrap).
methods: MethodSwitch[tuple[type, str]] = MethodSwitch()
_baseline = methods.baseline

_EXECUTE = (CursorWrapper, "_execute_with_wrappers")
_ON_COMMIT = (BaseDatabaseWrapper, "on_commit")
_RUN_HOOKS = (BaseDatabaseWrapper, "run_and_clear_commit_hooks")
_UPDATE = (QuerySet, "update")
_BULK_CREATE = (QuerySet, "bulk_create")
_BULK_UPDATE = (QuerySet, "bulk_update")
_ASYNC = {"aupdate": "update", "abulk_create": "bulk_create", "abulk_update": "bulk_update"}

# Django's own callers of QuerySet.update(): bulk_update() runs one update() per batch (reported
# once, as bulk_update), and a delete()'s on_delete=SET_NULL/SET_DEFAULT sometimes does, sometimes
# not (depending on whether the related rows were fetched); neither is reported as an update().
_INTERNAL_UPDATE_CALLERS: frozenset[types.CodeType] = frozenset()

# Where an a*() ORM method was awaited: the sync method runs in a worker thread whose stack holds
# only asgiref's frames, so the call site is passed along in the context asgiref copies.
_awaited_at: ContextVar[str | None] = ContextVar("signal_panel_awaited_at", default=None)


# -- queries -----------------------------------------------------------------------------------


def _execute_with_wrappers(
    self: CursorWrapper, sql: Any, params: Any, many: bool, executor: Any
) -> Any:
    for _tape, call in _state.get():
        if call is not None:
            wrappers = self.db.execute_wrappers
            # A query run from inside another query's wrappers already passes through ours.
            if _record_query not in wrappers:
                # What ``connection.execute_wrapper(_record_query)`` does, inlined: its
                # generator-based context manager costs more than the rest of the recording.
                wrappers.append(_record_query)
                try:
                    return _baseline[_EXECUTE](self, sql, params, many, executor)
                finally:
                    wrappers.pop()
            break
    return _baseline[_EXECUTE](self, sql, params, many, executor)


def _record_query(
    execute: Callable[..., Any], sql: Any, params: Any, many: bool, context: Any
) -> Any:
    """The execute wrapper: runs the query as given and notes it on the current receiver calls."""
    start = _perf_ns()
    try:
        return execute(sql, params, many, context)
    finally:
        elapsed = _perf_ns() - start
        # The SQL text with its parameters left out (Django keeps them apart) is its shape.
        shape = sql if type(sql) is str else f"<{type(sql).__qualname__}>"
        for _tape, call in _state.get():
            if call is not None:
                work = rows.call_work(call)
                work.queries += 1
                work.query_ns += elapsed
                shapes = work.query_shapes
                if shapes is None:
                    work.query_shapes = {shape: 1}
                elif shape in shapes:
                    shapes[shape] += 1
                elif len(shapes) < MAX_SHAPES:
                    shapes[shape] = 1


# -- transaction.on_commit ---------------------------------------------------------------------


# What became of the callbacks receivers register, without holding them or changing what the
# program sees in ``connection.run_on_commit``:
# - queued in a transaction: Django's entry ``(savepoint ids, callback, robust)`` is found by its
#   id; when the commit runs the queue (``run_and_clear_commit_hooks``), the entries of the hooks
#   watched are replaced, in the queue Django is about to consume, by ``_Timed`` wrappers; an entry
#   gone from the queue when a recording ends was discarded by a rollback;
# - run at once (no transaction): Django calls a ``_Timed`` wrapper instead of the callback.
# Django reads the callback's ``__qualname__`` (or formats it) only to log an error of a robust
# callback: ``_Timed`` answers with the callback's own.

_hooks_lock = threading.Lock()
#: Hooks queued in a transaction and watched by at least one active recording.
_watched: list[rows.Hook] = []


class _Timed:
    """Calls an ``on_commit`` callback as Django would, noting on its :class:`~rows.Hook` when it
    ran, how long it took and whether it raised."""

    __slots__ = ("_func", "_hook")

    def __init__(self, func: Callable[[], Any], hook: rows.Hook) -> None:
        self._func = func
        self._hook = hook

    def __call__(self) -> Any:
        hook = self._hook
        hook.started_ns = _perf_ns()
        try:
            return self._func()
        except BaseException as err:
            hook.error = rows._error_text(err)
            raise
        finally:
            hook.duration_ns = _perf_ns() - hook.started_ns
            hook.outcome = rows.RAN

    def __getattr__(self, name: str) -> Any:
        return getattr(self._func, name)

    def __repr__(self) -> str:
        return repr(self._func)

    def __str__(self) -> str:
        return str(self._func)


def _on_commit(self: BaseDatabaseWrapper, func: Any, *args: Any, **kwargs: Any) -> Any:
    if callable(func):
        calls = [(tape, call) for tape, call in _state.get() if call is not None and tape.active]
        if calls:
            return _watch_hook(self, func, calls, args, kwargs)
    return _baseline[_ON_COMMIT](self, func, *args, **kwargs)


def _watch_hook(
    connection: BaseDatabaseWrapper,
    func: Any,
    calls: list[tuple[Tape, list[Any]]],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> Any:
    on_commit = _baseline[_ON_COMMIT]
    try:
        robust = bool(kwargs["robust"] if "robust" in kwargs else args[0] if args else False)
        hook = rows.Hook(naming.receiver_info(func).name, str(connection.alias), robust)
        queued = bool(connection.in_atomic_block)
        for _tape, call in calls:
            work = rows.call_work(call)
            work.on_commit += 1
            if work.hooks is None:
                work.hooks = []
            work.hooks.append(hook)
    except Exception:
        return on_commit(connection, func, *args, **kwargs)
    if not queued:
        # Run by Django now, inside on_commit() (or refused: manual transaction management).
        hook.immediate = True
        try:
            return on_commit(connection, _Timed(func, hook), *args, **kwargs)
        except BaseException as err:
            if hook.outcome == rows.PENDING:
                hook.outcome = rows.REFUSED
                hook.error = rows._error_text(err)
            raise
    result = on_commit(connection, func, *args, **kwargs)
    try:
        queue = connection.run_on_commit
        entry = queue[-1] if queue else None
        if type(entry) is tuple and len(entry) == 3 and entry[1] is func:
            hook.where = naming._weak(connection)
            hook.func_id = id(func)
            with _hooks_lock:
                for tape, _call in calls:
                    tape.hooks.append(hook)
                    hook.watchers += 1
                _watched.append(hook)
    except Exception:
        pass
    return result


def _slots(connection: BaseDatabaseWrapper) -> dict[int, list[int]]:
    """``id(callback) -> [index, ...]`` of the entries of ``connection.run_on_commit``, the
    indexes last first (``pop()`` gives them in order). Found by the callback's id: a
    savepoint's rollback rebuilds the entries it keeps."""
    slots: dict[int, list[int]] = {}
    for index, entry in enumerate(connection.run_on_commit):
        if type(entry) is tuple and len(entry) == 3:
            slots.setdefault(id(entry[1]), []).append(index)
    for indexes in slots.values():
        indexes.reverse()
    return slots


def _run_and_clear_commit_hooks(self: BaseDatabaseWrapper) -> Any:
    if _watched and not self.in_atomic_block:
        try:
            with _hooks_lock:
                mine = [hook for hook in _watched if hook.where() is self]
                if mine:
                    # Django's entries are 3-tuples since 4.2 (django-stubs says 2).
                    queue: list[Any] = self.run_on_commit
                    slots = _slots(self)
                    for hook in mine:  # in the order they were queued, as the entries are
                        indexes = slots.get(hook.func_id)
                        if indexes:
                            index = indexes.pop()
                            savepoints, func, robust = queue[index]
                            queue[index] = (savepoints, _Timed(func, hook), robust)
                            hook.swapped = True
                    _watched[:] = [hook for hook in _watched if not hook.swapped]
        except Exception:
            pass
    return _baseline[_RUN_HOOKS](self)


def settle(tape: Tape) -> None:
    """At the end of ``tape``: a hook it watched that is no longer queued and did not run was
    discarded by a rollback (or lost, when an earlier callback of its commit raised). A hook no
    active recording watches any more is forgotten. Never raises."""
    try:
        slots: dict[int, dict[int, list[int]]] = {}
        with _hooks_lock:
            for hook in tape.hooks:
                if hook.outcome == rows.PENDING:
                    if hook.swapped:
                        hook.outcome = rows.LOST
                    else:
                        connection = hook.where()
                        queued = None
                        if connection is not None:
                            found = slots.get(id(connection))
                            if found is None:
                                found = slots[id(connection)] = _slots(connection)
                            queued = found.get(hook.func_id)
                        if queued:
                            queued.pop()
                        else:
                            hook.outcome = rows.DISCARDED
                hook.watchers -= 1
                if hook.watchers <= 0:
                    hook.where = None
            _watched[:] = [h for h in _watched if h.watchers > 0 and h.outcome == rows.PENDING]
    except Exception:
        pass


# -- bulk operations ---------------------------------------------------------------------------


def _update(self: QuerySet[Any], **kwargs: Any) -> Any:
    rows = _baseline[_UPDATE](self, **kwargs)
    state = _state.get()
    if state and rows and sys._getframe(1).f_code not in _INTERNAL_UPDATE_CALLERS:
        _report(state, "update", self.model, rows)
    return rows


def _bulk_create(self: QuerySet[Any], objs: Any, *args: Any, **kwargs: Any) -> Any:
    created = _baseline[_BULK_CREATE](self, objs, *args, **kwargs)
    state = _state.get()
    if state:
        try:
            rows = len(created)
        except Exception:
            rows = 0
        if rows:
            _report(state, "bulk_create", self.model, rows)
    return created


def _bulk_update(self: QuerySet[Any], *args: Any, **kwargs: Any) -> Any:
    rows = _baseline[_BULK_UPDATE](self, *args, **kwargs)
    state = _state.get()
    if state and rows:
        _report(state, "bulk_update", self.model, rows)
    return rows


def _make_async(name: str) -> Callable[..., Any]:
    key = (QuerySet, name)

    async def awaited(self: QuerySet[Any], *args: Any, **kwargs: Any) -> Any:
        if not _state.get():
            return await _baseline[key](self, *args, **kwargs)
        token = _awaited_at.set(naming.callsite_text())
        try:
            return await _baseline[key](self, *args, **kwargs)
        finally:
            _awaited_at.reset(token)

    return awaited


def _save_receivers(model: Any) -> list[tuple[Signal, naming.ReceiverInfo]]:
    """``(signal, receiver info)`` of the live ``pre_save``/``post_save`` receivers connected for
    ``model`` or one of its parents, in Django's order, read from ``Signal.receivers`` (no side
    effects). Receivers connected for any sender are left out: a bulk operation on one model does
    not skip them in any sense a user means."""
    meta = model._meta
    senders = [model, *meta.get_parent_list()]
    if meta.proxy and meta.concrete_model is not None:
        senders.append(meta.concrete_model)
    ids = {dispatcher._make_id(sender) for sender in senders}  # type: ignore[attr-defined]
    found: list[tuple[Signal, naming.ReceiverInfo]] = []
    for signal in (signals.pre_save, signals.post_save):
        for lookup_key, receiver, _weak, _is_async in receiver_entries(signal):
            if receiver is None:
                continue
            sender_key = lookup_key[1] if isinstance(lookup_key, tuple) else None
            if sender_key in ids:
                found.append((signal, naming.receiver_info(receiver)))
    return found


def _report(state: State, operation: str, model: object, count: int) -> None:
    """Add (or merge into) a ``bypassed_receivers`` event on each recording. Never raises."""
    try:
        if not isinstance(model, ModelBase) or not issubclass(model, Model):
            return
        # The toolbar's own models are not the user's; auto-created many-to-many through models
        # are written by add()/set(), which send m2m_changed instead.
        if model._meta.app_label == "debug_toolbar" or model._meta.auto_created:
            return
        receivers = _save_receivers(model)
        if receivers and not naming.called_by_project():
            # A library's own bookkeeping (django-treebeard's update() of a node's child count):
            # only the project's receivers are the project's business.
            receivers = [(s, info) for s, info in receivers if naming.project_receiver(info)]
        if not receivers:
            return
        # In a worker thread running an a*() method, the stack holds asgiref's frames only.
        callsite = naming.callsite_text("") or _awaited_at.get() or "?"
        label = str(model._meta.label)
        for tape, call in state:
            if not tape.active:
                continue
            wanted = [
                ("pre_save" if signal is signals.pre_save else "post_save", info.name)
                for signal, info in receivers
                if id(signal) not in tape.ignored
            ]
            if wanted:
                _add_event(tape, call, operation, label, count, wanted, callsite)
    except Exception:
        pass


def _add_event(
    tape: Tape,
    call: list[Any] | None,
    operation: str,
    label: str,
    count: int,
    receivers: list[tuple[str, str]],
    callsite: str,
) -> None:
    for event in reversed(tape.events):
        details = event.get("details", {})
        if (
            event.get("kind") == "bypassed_receivers"
            and details.get("operation") == operation
            and details.get("model") == label
            and details.get("callsite") == callsite
        ):
            details["rows"] += count
            details["times"] += 1
            event["message"] = _bypass_message(details)
            return
    names: list[str] = []
    signals_of: dict[str, list[str]] = {}
    for signal, name in receivers:
        if name not in names:
            names.append(name)
        signals_of.setdefault(name, []).append(signal)
    details = {
        "operation": operation,
        "model": label,
        "rows": count,
        "times": 1,
        "receivers": names,
        "signals": sorted({signal for signal, _name in receivers}, reverse=True),
        "receiver_signals": signals_of,
        "callsite": callsite,
        "inside": call[rows.C_INFO].name if call is not None else None,
        "start_ns": _perf_ns() - tape.started_ns,
    }
    tape.events.append(
        {
            "kind": "bypassed_receivers",
            "message": _bypass_message(details),
            "locations": [callsite],
            "details": details,
        }
    )


def _bypass_message(details: dict[str, Any]) -> str:
    rows = details["rows"]
    times = details["times"]
    what = "row" if rows == 1 else "rows"
    calls = "" if times == 1 else f" in {times} calls"
    names = details["receivers"]
    receivers = ("receiver " if len(names) == 1 else "receivers ") + ", ".join(names)
    verb = "was" if len(names) == 1 else "were"
    return (
        f"{details['operation']}() of {rows} {details['model']} {what}{calls}: "
        f"{'/'.join(details['signals'])} {receivers} {verb} not called"
    )


def _wrapped(original: Any, replacement: Callable[..., Any]) -> Callable[..., Any]:
    # Same name, docstring and attributes (``alters_data``, ``queryset_only``) as Django's.
    wrapper = functools.wraps(original)(replacement)
    setattr(wrapper, _MARK, True)
    return wrapper


def install() -> None:
    """Prepare the replacements and register the switch. Idempotent."""
    global _INTERNAL_UPDATE_CALLERS
    if methods.recorded:
        return
    _INTERNAL_UPDATE_CALLERS = frozenset(
        code
        for code in (
            getattr(QuerySet.__dict__["bulk_update"], "__code__", None),
            getattr(Collector.__dict__["delete"], "__code__", None),
        )
        if code is not None
    )
    replacements: dict[tuple[type, str], Callable[..., Any]] = {
        _EXECUTE: _execute_with_wrappers,
        _ON_COMMIT: _on_commit,
        _RUN_HOOKS: _run_and_clear_commit_hooks,
        _UPDATE: _update,
        _BULK_CREATE: _bulk_create,
        _BULK_UPDATE: _bulk_update,
    }
    for name in _ASYNC:
        replacements[(QuerySet, name)] = _make_async(name)
    for (cls, name), replacement in replacements.items():
        methods.add((cls, name), cls, name, _wrapped(cls.__dict__[name], replacement))
