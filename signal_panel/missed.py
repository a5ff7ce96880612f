"""Receivers that did not run, and why: the answer to "why did my receiver not fire?".

For each signal a recording saw sent, the receivers a developer most likely meant to run are
looked for among those connected to it, and each is given a reason (:attr:`Miss.reason`):

- ``related_sender``: connected with ``sender=`` a class related to the one that sent: a proxy's
  concrete model, a multi-table parent, an abstract base, a proxy or a multi-table child (Django
  matches the exact class only), or a class of the same name from a module imported under a
  second name (or reloaded);
- ``collected``: connected weakly (the default) and garbage-collected before the send;
- ``bypassed``: the rows were written by ``update()``, ``bulk_create()`` or ``bulk_update()``,
  which send no ``pre_save``/``post_save`` (the ``bypassed_receivers`` problem);
- ``never_connected``: defined with ``@receiver`` in a module of the project that was never
  imported (the missing import in ``AppConfig.ready()``): :func:`unimported_receiver_modules`,
  found once per process, shown in the registry and by the ``signal_panel.W002`` check.

The project's own receivers connected for a parent class, an abstract base or a twin class, and
its collected functions, become ``receiver_not_run`` problems (:func:`find`); the rest are
explanations the panel shows when asked about a receiver by name. Runs after the recording; reads
``Signal.receivers``, the registry and the app registry, never a receiver.
"""

from __future__ import annotations

import fnmatch
import os
import re
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.dispatch import Signal, dispatcher

from signal_panel import naming, registry
from signal_panel.tracking.rows import C_INFO, C_SEND, S_SENDER, S_SIGNAL, S_START

if TYPE_CHECKING:
    from signal_panel.problems import Problem
    from signal_panel.recording import Recording, Send

__all__ = ["Miss", "ReceiverModule", "find", "misses", "unimported_receiver_modules"]


@dataclass
class Miss:
    """A receiver connected to a signal that was sent, which did not run for those sends."""

    receiver: str
    signal: str
    #: The label of the sender that sent (``blog.Article``).
    sender: str
    reason: str
    #: One sentence: why it did not run, and what to do.
    why: str
    #: The sender it is connected for ("" for any), and how that one is related to ``sender``.
    connected_for: str = ""
    relation: str = ""
    connected_at: str | None = None
    #: The project's own receiver, most likely meant to run: reported as a problem.
    likely: bool = False
    sends: list[Send] = field(default_factory=list)

    @property
    def listed(self) -> bool:
        """Shown by default in the panel's *Why not run?*: the likely misses, and the receivers
        a bulk operation bypassed (their own problem, ``bypassed_receivers``)."""
        return self.likely or self.reason == "bypassed"


def misses(recording: Recording) -> list[Miss]:
    """Every :class:`Miss` of ``recording``: those of each signal and sender sent, in the order
    of the first send, then the bypassed receivers, then the receivers never connected.

    Read against the receivers connected now: for a finished recording, the answer is kept until
    a connection is made or ends."""
    if recording.active:
        return _misses(recording)
    # Kept on the recording (its misses hold its sends): the panel asks twice per request, for
    # the receiver_not_run problems and for the Why not run? rows.
    generation = registry.generation()
    known = recording._analysis.get("misses")
    if known is None or known[0] != generation:
        known = recording._analysis["misses"] = (generation, _misses(recording))
    found: list[Miss] = known[1]
    return list(found)


def _misses(recording: Recording) -> list[Miss]:
    found: list[Miss] = []
    # The sends of each signal and sender, leaving out at once the signals whose every receiver
    # is connected for any sender (nothing to miss there).
    # Read from the rows: the views of a group's sends are made only for a miss found in it.
    views: dict[int, _SignalView | None] = {}
    groups: dict[tuple[int, str], list[list[Any]]] = {}
    for row in recording.send_rows:
        signal = row[S_SIGNAL]
        signal_id = id(signal)
        view = views.get(signal_id, _UNSEEN)
        if view is _UNSEEN:
            view = views[signal_id] = _SignalView(signal) if isinstance(signal, Signal) else None
            if view is not None and view.empty:
                view = views[signal_id] = None
        if view is None:
            continue
        label = row[S_SENDER]
        if label != naming.OBSERVER:
            groups.setdefault((signal_id, label), []).append(row)
    ran_in: dict[int, list[naming.ReceiverInfo]] = {}

    def receivers_that_ran() -> dict[int, list[naming.ReceiverInfo]]:
        # Read from the call rows for the first group with a receiver to look at (most have none).
        if not ran_in:
            for row in recording.call_rows:
                ran_in.setdefault(id(row[C_SEND]), []).append(row[C_INFO])
        return ran_in

    patterns = recording.config.ignore_receivers
    for (signal_id, _label), rows in groups.items():
        view = views[signal_id]
        assert view is not None
        for miss in _group_misses(recording, rows, receivers_that_ran, view):
            if not (patterns and any(fnmatch.fnmatchcase(miss.receiver, p) for p in patterns)):
                found.append(miss)
    found.extend(_bypassed(recording))
    for module in unimported_receiver_modules():
        for name, signal in module.receivers:
            found.append(
                Miss(
                    receiver=name,
                    signal=signal,
                    sender="",
                    reason="never_connected",
                    why=(
                        f"{module.module} ({module.path}) was never imported, so its receivers "
                        "were never connected: import it in the app's AppConfig.ready()"
                    ),
                    connected_at=module.path,
                )
            )
    return found


def find(recording: Recording) -> Iterator[Problem]:
    """``receiver_not_run`` problems: the likely misses, one per receiver, signal and sender."""
    from signal_panel.problems import Problem

    for miss in misses(recording):
        if not miss.likely:
            continue
        yield Problem(
            "receiver_not_run",
            f"{miss.receiver} did not run for {_short(miss.signal)} from {miss.sender}"
            f"{_times(miss.sends)}: {miss.why}",
            sends=list(miss.sends),
            locations=[miss.connected_at] if miss.connected_at else [],
            details={
                "receiver": miss.receiver,
                "signal": miss.signal,
                "sender": miss.sender,
                "reason": miss.reason,
                "connected_for": miss.connected_for,
                "relation": miss.relation,
                "connected_at": miss.connected_at,
                "receivers": [miss.receiver],
            },
        )


#: Django's delete signals: a multi-table child's delete sends them for its parents too.
_DELETES = frozenset({"pre_delete", "post_delete"})


def _short(signal_name: str) -> str:
    """``post_save`` for Django's own signals, as the other problems name them."""
    return signal_name.rsplit(".", 1)[-1] if signal_name.startswith("django.") else signal_name


def _times(sends: list[Send]) -> str:
    count = sum(send.count for send in sends)
    return "" if count == 1 else f" ({count} sends)"


# -- one signal and sender ----------------------------------------------------------------------


_UNSEEN: Any = object()


class _SignalView:
    """What the misses of every sender of one signal are looked for in, read once per
    recording: the receivers connected for one sender (one connected for any sender runs for
    all), those the registry saw end, and the collected ones."""

    def __init__(self, signal: Signal) -> None:
        self.current: list[tuple[Any, naming.ReceiverInfo, registry.Connection | None]] = []
        for lookup_key, receiver, _weak, _is_async in _entries(signal):
            if receiver is None or type(lookup_key) is not tuple or len(lookup_key) != 2:
                continue
            if lookup_key[1] == dispatcher.NONE_ID:
                continue
            connection = registry.connection_for(signal, lookup_key)
            self.current.append((lookup_key[1], naming.receiver_info(receiver), connection))
        ended = registry.ended_connections(signal)
        self.ended = [
            c
            for c in ended
            if not c.collected and c.sender_key is not None and c.sender_key != dispatcher.NONE_ID
        ]
        self.collected = [c for c in ended if c.collected]
        self.live = (
            {c.receiver_id for _key, c in registry.connections_to(signal)}
            if self.collected
            else set()
        )
        self.empty = not (self.current or self.ended or self.collected)


def _group_misses(
    recording: Recording,
    rows: list[list[Any]],
    receivers_that_ran: Callable[[], dict[int, list[naming.ReceiverInfo]]],
    view: _SignalView,
) -> Iterator[Miss]:
    """The misses of the sends of one signal and sender (their rows, in order);
    ``receivers_that_ran()`` gives the receivers that ran in each send, by the id of its row."""
    label = rows[0][S_SENDER]
    model = _model(label)
    model_id = id(model) if model is not None else None
    first_at = recording.started_ns + rows[0][S_START]
    last_at = recording.started_ns + rows[-1][S_START]
    # Connected for this very sender, a receiver ran: only the others are looked at.
    candidates = [c for c in _candidates(view, first_at, last_at) if c[0] != model_id]
    if not candidates and not view.collected:
        return
    signal_name = registry.signal_name(rows[0][S_SIGNAL])
    ran_in = receivers_that_ran()
    ran = {info.logical_key for row in rows for info in ran_in.get(id(row), ())}
    # The sends' views, made with the first miss (most groups have none), shared by all of them.
    sends: list[Send] = []

    def found_in() -> list[Send]:
        if not sends:
            sends.extend(recording._send_view(row) for row in rows)
        return sends

    short = _short(signal_name)
    relatives = _relatives(model, label) if model is not None else {}
    parents = set(model._meta.get_parent_list()) if model is not None else set()
    seen: set[tuple[Any, ...]] = set()
    for candidate in candidates:
        sender_id, info, connection = candidate
        if info.observer or info.logical_key in ran or info.logical_key in seen:
            continue
        relative = relatives.get(sender_id)
        connected_at = connection.location if connection is not None else None
        if relative is not None and short in _DELETES and relative[0] in parents:
            # Deleting a child deletes its parents' rows too, each sent for as its own model.
            continue
        if relative is not None:
            cls, relation, likely = relative
            connected_for = naming.sender_label(cls) or "?"
            if likely:
                why = (
                    f"it is connected for {connected_for}, {relation}, and Django sent {short} "
                    f"for {label} only: a receiver runs only for the exact sender class it was "
                    f"connected for. Connect it for {label} too, or for no sender and check the "
                    "class"
                )
            else:  # connected for a proxy or a child: most likely on purpose
                why = (
                    f"it is connected for {connected_for}, {relation}: it runs when a "
                    f"{connected_for} is sent for, not a {label}"
                )
        else:
            why = _twin(connection, label, sender_id, model)
            if not why:
                continue
            connected_for = connection.sender if connection is not None else ""
            relation, likely = "another class of the same name", True
        seen.add(info.logical_key)
        yield Miss(
            receiver=info.name,
            signal=signal_name,
            sender=label,
            reason="related_sender",
            why=why,
            connected_for=connected_for,
            relation=relation,
            connected_at=connected_at,
            likely=likely and naming.project_receiver(info),
            sends=found_in(),
        )
    yield from _collected(view, signal_name, label, found_in, ran, seen, first_at)


def _candidates(
    view: _SignalView, first_at: int, last_at: int
) -> Iterator[tuple[Any, naming.ReceiverInfo, registry.Connection | None]]:
    """``(sender key, receiver info, connection)`` of each receiver connected to the signal for
    one sender when the sends were made: those connected now (unless connected after the last
    send), and those the registry saw disconnected after the first send."""
    for sender_id, info, connection in view.current:
        if connection is None or connection.connected_ns <= last_at:
            yield sender_id, info, connection
    for connection in view.ended:
        ended = connection.disconnected_ns
        if connection.connected_ns <= last_at and ended is not None and ended >= first_at:
            info = naming.ReceiverInfo(
                connection.receiver_name,
                connection.definition,
                connection.receiver_id,
                naming._is_observer(connection.receiver_name.rsplit(".", 1)[0]),
            )
            yield connection.sender_key, info, connection


def _entries(signal: Signal) -> list[tuple[Any, Any, bool, bool]]:
    from signal_panel.tracking.django import receiver_entries

    try:
        return receiver_entries(signal)
    except Exception:
        return []


def _model(label: str) -> Any:
    from django.apps import apps

    if label.count(".") != 1:
        return None
    try:
        return apps.get_model(label)
    except (LookupError, ValueError):
        return None


_relatives_cache: dict[tuple[str, int], dict[Any, tuple[type, str, bool]]] = {}
_relatives_lock = threading.Lock()


def _relatives(model: Any, label: str) -> dict[Any, tuple[type, str, bool]]:
    """``id`` (Django's sender key) -> ``(class, how it is related to model, likely)`` for the
    classes a receiver may have been connected for instead of ``model``: its bases (likely meant
    to run for it) and its proxies and multi-table children (likely not)."""
    from django.apps import apps

    key = (label, id(model))
    with _relatives_lock:
        found = _relatives_cache.get(key)
    if found is not None:
        return found
    found = {}
    meta = model._meta
    for cls in model.__mro__[1:]:
        other = cls.__dict__.get("_meta")
        if other is None or not hasattr(other, "abstract"):
            continue
        if other.abstract:
            relation = f"an abstract base of {label} (abstract models never send)"
        elif meta.proxy and cls is meta.concrete_model:
            relation = f"the concrete model of the proxy {label} (a proxy sends as itself)"
        elif other.proxy:
            relation = f"a proxy {label} is made from"
        elif cls in meta.parents:
            relation = f"a multi-table parent of {label}"
        else:
            relation = f"a parent of {label}"
        found[id(cls)] = (cls, relation, True)
    for other_model in apps.get_models():
        if other_model is not model and issubclass(other_model, model):
            kind = "a proxy" if other_model._meta.proxy else "a multi-table child"
            found[id(other_model)] = (other_model, f"{kind} of {label}", False)
    with _relatives_lock:
        if len(_relatives_cache) > 512:
            _relatives_cache.clear()
        _relatives_cache[key] = found
    return found


def _twin(connection: registry.Connection | None, label: str, sender_id: object, model: Any) -> str:
    """Why a receiver connected for a class of the same name as the sender did not run, or ""."""
    if connection is None or not connection.sender or connection.sender == "?":
        return ""
    connected_for = connection.sender
    if connected_for == label:
        if model is not None and sender_id != id(model):
            return (
                f"it is connected for an older class object named {label} (its module was "
                f"reloaded or imported again): connect it for the class the app registry holds "
                f'or with the lazy "{label}" string'
            )
        return ""
    if connected_for.endswith("." + label) or label.endswith("." + connected_for):
        return (
            f"it is connected for {connected_for}, the same class imported under another module "
            f"name than the sender {label}: import the module one way only"
        )
    return ""


def _collected(
    view: _SignalView,
    signal_name: str,
    label: str,
    found_in: Callable[[], list[Send]],
    ran: set[tuple[Any, ...]],
    seen: set[tuple[Any, ...]],
    first_at: int,
) -> Iterator[Miss]:
    live = view.live
    for connection in view.collected:
        key = connection.receiver_id
        if key in ran or key in seen or key in live:
            continue
        if connection.disconnected_ns is None or connection.disconnected_ns > first_at:
            continue  # it died after the first send
        if connection.sender not in ("", label):
            continue
        if naming._is_observer(connection.receiver_name.rsplit(".", 1)[0]):
            continue
        seen.add(key)
        path = connection.definition.rsplit(":", 1)[0]
        project = naming.project_file(os.path.abspath(path))
        what = "bound method, collected with its instance" if connection.bound else "function"
        yield Miss(
            receiver=connection.receiver_name,
            signal=signal_name,
            sender=label,
            reason="collected",
            why=(
                f"it was connected weakly (the default) at {connection.location}, and the "
                f"{what}, which nothing else kept alive, was garbage-collected before this send: "
                "connect it with weak=False, or keep a reference to it (define it at module level)"
            ),
            connected_for=connection.sender,
            connected_at=connection.location,
            # Connected at start-up, it was meant to live as long as the process; one connected
            # later (by a view, a test) may have died with what made it.
            likely=project and not connection.bound and connection.start_up,
            sends=found_in(),
        )


def _bypassed(recording: Recording) -> Iterator[Miss]:
    """One miss per bypassed receiver and model, naming every operation that bypassed it."""
    found: dict[tuple[str, str], tuple[list[str], list[str]]] = {}
    for event in recording.events:
        if event.get("kind") != "bypassed_receivers":
            continue
        details = event.get("details", {})
        model = str(details.get("model", ""))
        signals_of = details.get("receiver_signals", {})
        count = details.get("rows")
        operation = (
            f"{details.get('operation')}() of {count} {'row' if count == 1 else 'rows'} at "
            f"{details.get('callsite')}"
        )
        for name in details.get("receivers", ()):
            signals, operations = found.setdefault((str(name), model), ([], []))
            for signal in signals_of.get(name, details.get("signals", ())):
                if signal not in signals:
                    signals.append(signal)
            operations.append(operation)
    for (name, model), (signals, operations) in found.items():
        yield Miss(
            receiver=name,
            signal="/".join(signals),
            sender=model,
            reason="bypassed",
            why=(f"{'; '.join(operations)} wrote rows without sending pre_save or post_save"),
            connected_for=model,
        )


# -- receiver modules never imported -------------------------------------------------------------


@dataclass(frozen=True)
class ReceiverModule:
    """A module of an installed app of the project that defines receivers and was not imported."""

    app: str
    module: str
    path: str
    #: ``(function name, signal as written in the decorator)`` of its ``@receiver`` functions.
    receivers: tuple[tuple[str, str], ...]


# ``@receiver(post_save, sender=...)`` or ``@receiver([pre_save, post_save])``, then its ``def``.
_DECORATED = re.compile(
    r"^[ \t]*@(?:[\w.]+\.)?receiver\(\s*(?P<signal>[^,)\n]+)[^\n]*\n"
    r"(?:[ \t]*@[^\n]*\n)*[ \t]*(?:async[ \t]+)?def[ \t]+(?P<name>\w+)",
    re.MULTILINE,
)
_SKIPPED_DIRS = frozenset({"migrations", "tests", "test", "management", "templates", "static"})
_MAX_FILE = 512 * 1024
_MAX_FILES = 400
_scan: list[tuple[ReceiverModule, ...]] = []
_scan_lock = threading.Lock()


def unimported_receiver_modules() -> tuple[ReceiverModule, ...]:
    """The modules of the project's installed apps that define ``@receiver`` functions but were
    never imported, so none of their receivers exist. Found once per process, after the app
    registry is ready (then kept: importing a module later is not connecting it at start-up).
    Test modules and migrations are left out. Reads files, imports nothing."""
    if _scan:
        return _scan[0]
    from django.apps import apps

    if not apps.ready:
        return ()
    with _scan_lock:
        if not _scan:
            _scan.append(tuple(_find_unimported(apps.get_app_configs())))
    return _scan[0]


def _find_unimported(app_configs: Any) -> Iterator[ReceiverModule]:
    budget = [_MAX_FILES]
    for config in app_configs:
        root = getattr(config, "path", None)
        module = getattr(config, "module", None)
        if not isinstance(root, str) or module is None:
            continue
        init = getattr(module, "__file__", None)
        if not isinstance(init, str) or not naming.project_file(os.path.abspath(init)):
            continue
        yield from _scan_app(config.label, config.name, root, budget)


def _scan_app(label: str, package: str, root: str, budget: list[int]) -> Iterator[ReceiverModule]:
    for directory, dirs, files in os.walk(root):
        dirs[:] = sorted(
            d
            for d in dirs
            if d not in _SKIPPED_DIRS
            and not d.startswith((".", "_"))
            and os.path.exists(os.path.join(directory, d, "__init__.py"))
        )
        relative = os.path.relpath(directory, root)
        parts = [] if relative == "." else relative.split(os.sep)
        for filename in sorted(files):
            if not filename.endswith(".py") or filename.startswith(("test", "conftest")):
                continue
            if budget[0] <= 0:
                return
            budget[0] -= 1
            stem = filename[:-3]
            dotted = ".".join([package, *parts, *([] if stem == "__init__" else [stem])])
            if dotted in sys.modules:
                continue
            path = os.path.join(directory, filename)
            found = _decorated(path)
            if found:
                yield ReceiverModule(label, dotted, naming.short_path(path), found)


def _decorated(path: str) -> tuple[tuple[str, str], ...]:
    try:
        if os.path.getsize(path) > _MAX_FILE:
            return ()
        with open(path, encoding="utf-8", errors="replace") as file:
            source = file.read()
    except OSError:
        return ()
    if "receiver(" not in source:
        return ()
    return tuple(
        (match["name"], match["signal"].strip().strip("[(").strip())
        for match in _DECORATED.finditer(source)
    )
