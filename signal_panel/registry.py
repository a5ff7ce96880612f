"""What the process knows about its signals: their dotted names and where receivers were connected.

The instrumentation modules feed this module from their patched ``__init__``/``connect``/
``disconnect``; readers (the panel's registry tab, problem finding) ask it afterwards. Nothing here
keeps a signal, a receiver or a sender alive.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
import types
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from signal_panel import naming

__all__ = [
    "Connection",
    "Library",
    "connection_for",
    "connection_places",
    "connections_of",
    "is_signal",
    "known_signals",
    "signal_name",
    "signals_with_connections",
]


#: Bumped whenever a signal is created or a connection starts or ends, so that readers can tell
#: whether what they built from the registry is still current (see :func:`generation`).
_generation = [0]
#: The same, leaving out the connections of the observer's receivers (django-debug-toolbar's
#: panels connect and disconnect theirs on every request): ``[changes, observer receivers
#: connected now]`` (see :func:`project_generation`).
_project_generation = [0, 0]


def generation() -> int:
    """A number that changes whenever a signal is created or a connection made or ended."""
    return _generation[0]


def project_generation() -> tuple[int, int]:
    """A value that changes whenever a signal is created or a connection of a receiver that is
    not the observer's (``naming.ReceiverInfo.observer``) is made or ended, and whenever the
    number of the observer's receivers connected now changes: an observer's receiver connected
    and disconnected again leaves it as it was."""
    return _project_generation[0], _project_generation[1]


@dataclass
class Connection:
    """One ``connect()`` seen after install()."""

    location: str  # file:line of the connect() call (or of the @receiver line)
    receiver_name: str
    definition: str  # file:line of the receiver's definition
    weak: bool
    dispatch_uid: str | None
    receiver_id: Any = None
    #: The sender the receiver was connected for (``auth.User``), "" for any sender.
    sender: str = ""
    #: The receiver was a bound method.
    bound: bool = False
    #: ``time.perf_counter_ns()`` when ``connect()`` returned, and when the connection ended:
    #: ``disconnect()``, or the garbage collection of a weakly connected receiver (None until then).
    connected_ns: int = 0
    disconnected_ns: int | None = None
    #: Django's key of that sender (its ``id()``), None for any sender.
    sender_key: Any = None
    #: Made at start-up: while a module was imported, or before the app registry was ready.
    start_up: bool = False
    #: Ended by the garbage collection of a weakly connected receiver (not by ``disconnect()``).
    collected: bool = False
    #: The receiver is the observer's (django-debug-toolbar's or this package's).
    observer: bool = False
    #: The weak reference whose callback notes the receiver's collection.
    _watch: Any = field(default=None, repr=False, compare=False)

    def live_at(self, at_ns: int) -> bool:
        """Whether the connection existed at ``at_ns`` (``time.perf_counter_ns()``)."""
        return self.connected_ns <= at_ns and (
            self.disconnected_ns is None or at_ns <= self.disconnected_ns
        )

    # The clock is bound here: at interpreter exit, module globals may be gone when a weak
    # reference's callback calls this.
    def end(
        self,
        _now: Callable[[], int] = time.perf_counter_ns,
        _changes: list[int] = _generation,
        _project: list[int] = _project_generation,
    ) -> None:
        if self.disconnected_ns is None:
            self.disconnected_ns = _now()
            _changes[0] += 1
            if self.observer:
                _project[1] -= 1
            else:
                _project[0] += 1


@dataclass
class Library:
    """A signal library the package instruments (Django's dispatcher, blinker)."""

    name: str
    signal_types: tuple[type, ...]
    #: ``signal -> [dict]``: the receivers connected now, for the registry listing.
    list_receivers: Callable[[Any], list[dict[str, Any]]]
    #: Extra signals the library can name itself (blinker's named signals).
    named_signals: Callable[[], dict[str, Any]] = field(default=lambda: {})


_lock = threading.Lock()
_libraries: dict[str, Library] = {}


def register_library(library: Library) -> None:
    with _lock:
        _libraries[library.name] = library


def libraries() -> list[Library]:
    return list(_libraries.values())


# -- where signals were defined, and their names ------------------------------------------------

_defined_in: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()
_names: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()
_scanned_modules: set[str] = set()
# id(signal) -> candidate dotted names, for signals found by scanning modules.
_candidates: dict[int, list[str]] = {}


def note_created(signal: object, module: str | None) -> None:
    """Called from a patched ``Signal.__init__`` with the module that created the signal."""
    _generation[0] += 1
    _project_generation[0] += 1
    if module:
        with contextlib.suppress(TypeError):
            _defined_in[signal] = module


def _signal_types() -> tuple[type, ...]:
    return tuple(t for lib in _libraries.values() for t in lib.signal_types)


def is_signal(value: object) -> bool:
    """Whether ``value`` is a signal of an instrumented library (read by its type only)."""
    return issubclass(type(value), _signal_types())


def _scan_new_modules() -> None:
    types = _signal_types()
    if not types:
        return
    for module_name, module in list(sys.modules.items()):
        if module_name in _scanned_modules or module is None:
            continue
        _scanned_modules.add(module_name)
        try:
            namespace = dict(vars(module))
        except TypeError:
            continue
        for attr, value in namespace.items():
            # type() rather than isinstance(): isinstance() reads ``__class__``, which evaluates
            # lazy objects (``SimpleLazyObject``) found in modules, e.g. GEOS's library loader.
            kind = type(value)
            if issubclass(kind, types):
                _candidates.setdefault(id(value), []).append(f"{module_name}.{attr}")
            elif issubclass(kind, type) and getattr(value, "__module__", None) == module_name:
                # Signals kept as class attributes: ``class Signals: placed = Signal()``.
                for class_attr, class_value in list(vars(value).items()):
                    if issubclass(type(class_value), types):
                        _candidates.setdefault(id(class_value), []).append(
                            f"{module_name}.{value.__qualname__}.{class_attr}"
                        )


def _rank(name: str) -> tuple[int, int, int, str]:
    module = name.rsplit(".", 1)[0]
    return (
        0 if name.startswith("django.") else 1,
        0 if module.endswith("signals") else 1,
        name.count("."),
        name,
    )


def _find_in_module(signal: object, module_name: str) -> str | None:
    module = sys.modules.get(module_name)
    if module is None:
        return None
    for attr, value in list(vars(module).items()):
        if value is signal:
            return f"{module_name}.{attr}"
    for value in list(vars(module).values()):
        if issubclass(type(value), type) and getattr(value, "__module__", None) == module_name:
            for class_attr, class_value in list(vars(value).items()):
                if class_value is signal:
                    return f"{module_name}.{value.__qualname__}.{class_attr}"
    return None


def signal_name(signal: object) -> str:
    """Dotted path of a module-level signal (``django.db.models.signals.post_save``).

    A blinker ``NamedSignal`` is named by its name. A signal defined after install() is found in the
    module that created it; an older one by scanning ``sys.modules`` (once per module), preferring
    Django's own modules and modules named ``signals``. Anything else gets a label with its id.
    """
    try:
        cached = _names.get(signal)
    except TypeError:
        cached = None
    if cached is not None:
        return cached
    name = _resolve_name(signal)
    with contextlib.suppress(TypeError):
        _names[signal] = name
    return name


def _resolve_name(signal: object) -> str:
    try:
        own = getattr(signal, "name", None)
        if isinstance(own, str) and own:
            return own
        module = _defined_in.get(signal)
        if module is not None:
            found = _find_in_module(signal, module)
            if found:
                return found
        with _lock:
            _scan_new_modules()
            candidates = _candidates.get(id(signal), [])
            # Candidates are checked against the live module: an id may have been reused.
            live = [c for c in candidates if _lookup(c) is signal]
        if live:
            return min(live, key=_rank)
        where = f" from {module}" if module else ""
        return f"<{type(signal).__qualname__} at {id(signal):#x}{where}>"
    except Exception:
        return f"<{type(signal).__qualname__} at {id(signal):#x}>"


def _lookup(dotted: str) -> object:
    parts = dotted.split(".")
    for split in range(len(parts) - 1, 0, -1):
        module = sys.modules.get(".".join(parts[:split]))
        if module is not None:
            value: object = module
            for attr in parts[split:]:
                value = vars(value).get(attr) if hasattr(value, "__dict__") else None
            return value
    return None


def known_signals() -> list[tuple[str, Any]]:
    """Every signal the process can name: module-level signals of any imported module (Django's
    built-in ones, the project's own, third-party apps'), signals created since install(), and each
    library's named signals. Sorted by name."""
    found: dict[int, Any] = {}
    with _lock:
        _scan_new_modules()
        for key, candidates in list(_candidates.items()):
            for candidate in candidates:
                value = _lookup(candidate)
                if value is not None and id(value) == key:
                    found[key] = value
                    break
    for signal in list(_defined_in.keys()):
        found[id(signal)] = signal
    for library in libraries():
        for signal in library.named_signals().values():
            found[id(signal)] = signal
    named = [(signal_name(signal), signal) for signal in found.values()]
    return sorted(named, key=lambda pair: pair[0])


# -- where receivers were connected -------------------------------------------------------------

# id(signal) -> (weak reference to the signal, {lookup key: Connection},
#                {receiver's logical key: [Connection, ...]})
_connections: dict[
    int, tuple[weakref.ref[Any], dict[Any, Connection], dict[Any, list[Connection]]]
] = {}
_PER_SIGNAL_LIMIT = 2000
#: Connections remembered per receiver (logical key) and signal, connected or not.
_PLACES_LIMIT = 100


def _table(signal: object) -> tuple[dict[Any, Connection], dict[Any, list[Connection]]]:
    key = id(signal)
    entry = _connections.get(key)
    if entry is None or entry[0]() is not signal:
        ref = naming._weak(signal, lambda _ref: _connections.pop(key, None))
        entry = (ref, {}, {})
        _connections[key] = entry
    return entry[1], entry[2]


def note_connect(
    signal: object,
    receiver: object,
    lookup_key: Any,
    weak: bool,
    dispatch_uid: object,
    location: str,
    *,
    sender: object = None,
    start_up: bool = False,
) -> Connection | None:
    """Remember where ``receiver`` was connected. The first connect of a lookup key wins, as in
    Django, which ignores a second connect with the same key."""
    _generation[0] += 1
    by_key, by_logical = _table(signal)
    if _end_removed(signal, by_key):
        # Django's connect() sweeps out dead receivers, which the registry listing shows.
        _project_generation[0] += 1
    known = by_key.get(lookup_key)
    if known is not None and known.disconnected_ns is None:
        # Connected already: to a blinker signal, for one more sender, which the listing shows.
        _project_generation[0] += 1
        return None
    info = naming.receiver_info(receiver)
    if info.observer:
        _project_generation[1] += 1
    else:
        _project_generation[0] += 1
    connection = Connection(
        location=location,
        receiver_name=info.name,
        definition=info.location,
        weak=weak,
        dispatch_uid=None
        if dispatch_uid is None
        else naming.describe(naming.snapshot(dispatch_uid, 80), 80),
        sender=_sender_text(sender),
        receiver_id=info.logical_key,
        bound=type(receiver) is types.MethodType,
        connected_ns=time.perf_counter_ns(),
        start_up=start_up,
        observer=info.observer,
        sender_key=lookup_key[1] if type(lookup_key) is tuple and len(lookup_key) == 2 else None,
    )
    connection._watch = _watch(receiver, connection, weak, signal, lookup_key)
    if len(by_key) < _PER_SIGNAL_LIMIT:
        by_key[lookup_key] = connection
        # Kept after the connection ends: a receiver connected and disconnected within a request
        # (connect() in a view) still shows where it came from. Ended ones make room first.
        places = by_logical.setdefault(info.logical_key, [])
        if len(places) >= _PLACES_LIMIT:
            # The oldest ended one (a receiver connected per request: the first), else the
            # oldest; by position, not compared field by field.
            oldest = next(
                (at for at, place in enumerate(places) if place.disconnected_ns is not None), 0
            )
            del places[oldest]
        places.append(connection)
    return connection


def _sender_text(sender: object) -> str:
    """The label of a ``connect(sender=...)``: a model's label, a lazy ``"app.Model"`` string."""
    if sender is None:
        return ""
    if type(sender) is str:
        return sender
    return naming.sender_label(sender) or "?"


def _end_removed(signal: object, by_key: dict[Any, Connection]) -> bool:
    """End the connections whose receivers left ``signal`` without ``disconnect()``: tests that
    empty ``signal.receivers`` directly, say. Reads both shapes of ``receivers``: Django's list of
    entries starting with the lookup key (every version), blinker's dict keyed by receiver id.
    A muted receiver (:func:`note_muted`) has not left: it comes back when the mute ends.
    Returns whether any had left."""
    if not by_key:
        return False
    receivers = getattr(signal, "receivers", None)
    if isinstance(receivers, dict):
        current = set(receivers)
    elif isinstance(receivers, list):
        current = {entry[0] for entry in receivers if isinstance(entry, tuple) and entry}
    else:
        return False
    current.update(_muted.get(id(signal), ()))
    gone = [key for key in by_key if key not in current]
    for key in gone:
        by_key.pop(key).end()
    return bool(gone)


def _watch(
    receiver: object, connection: Connection, weak: bool, signal: object, lookup_key: Any
) -> Any:
    """A weak reference that ends ``connection`` when the receiver is collected: a weakly
    connected receiver nothing else keeps, or one removed from the signal (a strongly connected
    one dies only then), whose id a new receiver may get. Made with the ``weakref.ref`` bound at
    import (never ``WeakMethod``, which looks ``ref`` up anew): a program's test that counts its
    own calls of ``weakref.ref`` sees none of ours."""

    try:
        signal_ref = naming._weak(signal)
    except TypeError:
        signal_ref = None

    def collected(_ref: object) -> None:
        # Reads no module global: it may run at interpreter exit. Collected while still in
        # Django's list of receivers (a dead reference Django skips), not after it was removed
        # from it without disconnect().
        try:
            if weak and connection.disconnected_ns is None and signal_ref is not None:
                receivers = getattr(signal_ref(), "receivers", None)
                if type(receivers) is list:
                    connection.collected = any(
                        type(entry) is tuple and entry and entry[0] == lookup_key
                        for entry in receivers
                    )
        except Exception:
            pass
        connection.end()

    try:
        # A bound method connected weakly lives as long as its instance, as Django and blinker
        # reference it; connected strongly, the method object itself is kept.
        if weak and type(receiver) is types.MethodType:
            # Weakly connected, a bound method lives as long as its instance.
            return naming._weak(receiver.__self__, collected)
        return naming._weak(receiver, collected)
    except TypeError:
        return None


def note_disconnect(signal: object, lookup_key: Any) -> None:
    muted = _muted.get(id(signal))
    if muted is not None and lookup_key in muted:
        muted[lookup_key] = True  # disconnected while muted: it stays out when the mute ends
    by_key, _by_logical = _table(signal)
    connection = by_key.pop(lookup_key, None)
    if connection is not None:
        connection.end()


# -- receivers muted by signal_panel.testing -----------------------------------------------------

# id(signal) -> {lookup key of a muted receiver: whether disconnect() was called for it since}.
# A muted signal is kept alive by the mute that took its entries, so its id stays its own.
_muted: dict[int, dict[Any, bool]] = {}


def note_muted(signal: object, lookup_keys: list[Any]) -> None:
    """The receivers of ``lookup_keys`` were taken out of ``signal.receivers`` for a while
    (``signal_panel.testing.mute_receivers``): not a disconnection, so their connections stay."""
    _generation[0] += 1
    _project_generation[0] += 1
    _muted.setdefault(id(signal), {}).update(dict.fromkeys(lookup_keys, False))


def note_unmuted(signal: object, lookup_keys: list[Any]) -> set[Any]:
    """The mute of ``lookup_keys`` ended; returns those that ``disconnect()`` was called for while
    they were muted (they must not come back)."""
    _generation[0] += 1
    _project_generation[0] += 1
    muted = _muted.get(id(signal), {})
    dropped = {key for key in lookup_keys if muted.pop(key, False)}
    if not muted:
        _muted.pop(id(signal), None)
    return dropped


def signals_with_connections() -> list[Any]:
    """The live signals that a ``connect()`` was seen for since install(), wherever they were
    created (a signal made in a function, kept in an instance)."""
    found = []
    for ref, _by_key, _by_logical in list(_connections.values()):
        signal = ref()
        if signal is not None:
            found.append(signal)
    return found


def connections_of(
    signal: object, info: naming.ReceiverInfo, at_ns: int | None = None
) -> list[Connection]:
    """Every connection of the receiver ``info`` describes to ``signal`` seen since install(), or
    with ``at_ns`` (``time.perf_counter_ns()``) the ones that existed at that moment."""
    entry = _connections.get(id(signal))
    if entry is None or entry[0]() is not signal:
        return []
    found = list(entry[2].get(info.logical_key, []))
    if at_ns is None:
        return found
    return [connection for connection in found if connection.live_at(at_ns)]


def connection_places(
    signal: object, info: naming.ReceiverInfo, at_ns: int | None = None
) -> list[str]:
    """``file:line`` places where that receiver was connected to ``signal``, without repeats; with
    ``at_ns``, only of the connections that existed at that moment (a send's start, say), so a
    place whose receiver was disconnected or collected before is left out."""
    places: list[str] = []
    for connection in connections_of(signal, info, at_ns):
        if connection.location not in places:
            places.append(connection.location)
    return places


def connections_to(signal: object) -> list[tuple[Any, Connection]]:
    """``(lookup key, connection)`` of the receivers connected to ``signal`` now, as seen since
    install() (a lookup key is ``(receiver id, sender id)``)."""
    entry = _connections.get(id(signal))
    if entry is None or entry[0]() is not signal:
        return []
    return [(key, c) for key, c in list(entry[1].items()) if c.disconnected_ns is None]


def ended_connections(signal: object) -> list[Connection]:
    """The connections to ``signal`` that ended (disconnected, or their receiver collected),
    among those remembered per receiver."""
    entry = _connections.get(id(signal))
    if entry is None or entry[0]() is not signal:
        return []
    return [
        c
        for places in list(entry[2].values())
        for c in list(places)
        if c.disconnected_ns is not None
    ]


def connection_for(signal: object, lookup_key: Any) -> Connection | None:
    entry = _connections.get(id(signal))
    if entry is None or entry[0]() is not signal:
        return None
    return entry[1].get(lookup_key)


# -- signals named in settings ------------------------------------------------------------------

_resolved: dict[tuple[str, ...], tuple[object, ...]] = {}


def resolve_signals(names: Any) -> tuple[tuple[object, ...], list[str]]:
    """The signals that the dotted ``names`` (or blinker signal names) stand for, and the names
    that stand for none. Looks in imported modules only: nothing is imported."""
    key = tuple(sorted(names))
    found = _resolved.get(key)
    if found is not None:
        return found, []
    signals: list[object] = []
    missing: list[str] = []
    named = None
    for name in key:
        value = _lookup(name)
        if value is None or not issubclass(type(value), _signal_types()):
            if named is None:
                named = {}
                for library in libraries():
                    named.update(library.named_signals())
            value = named.get(name)
        if value is None:
            missing.append(name)
        else:
            signals.append(value)
    if not missing:
        _resolved[key] = tuple(signals)
    return tuple(signals), missing


_observer_cache: list[Any] = [None, frozenset()]


def observer_signals() -> frozenset[int]:
    """``id()`` of the module-level signals of django-debug-toolbar and this package (the
    toolbar's static files panel sends one per ``{% static %}``): the observer's, never the
    project's. Found in those packages' imported modules, again only when modules were imported;
    names nothing (no weak references), so it is cheap enough for every recording's start."""
    key = len(sys.modules)
    if _observer_cache[0] != key:
        types = _signal_types()
        found: set[int] = set()
        # Django's own signals, which the observer's modules import (and connect to).
        imported: set[int] = set()
        for module_name, module in list(sys.modules.items()):
            package = module_name.split(".", 1)[0]
            if module is None or package not in (*naming.OBSERVER_PACKAGES, "django", "blinker"):
                continue
            into = found if package in naming.OBSERVER_PACKAGES else imported
            with contextlib.suppress(TypeError):
                into.update(
                    id(value) for value in vars(module).values() if issubclass(type(value), types)
                )
        _observer_cache[:] = [key, frozenset(found - imported)]
    ids: frozenset[int] = _observer_cache[1]
    return ids
