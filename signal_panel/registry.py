"""What the process knows about its signals: their dotted names and where receivers were connected.

The instrumentation modules feed this module from their patched ``__init__``/``connect``/
``disconnect``; readers (the panel's registry tab, problem finding) ask it afterwards. Nothing here
keeps a signal, a receiver or a sender alive.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from signal_panel import _describe

__all__ = [
    "Connection",
    "Library",
    "connection_for",
    "connection_places",
    "connections_of",
    "known_signals",
    "signal_name",
]


@dataclass
class Connection:
    """One ``connect()`` seen after install()."""

    location: str  # file:line of the connect() call (or of the @receiver line)
    receiver_name: str
    definition: str  # file:line of the receiver's definition
    weak: bool
    dispatch_uid: str | None
    #: A function defined inside another function, connected weakly: under DEBUG=True Django's
    #: signature-check cache keeps it alive; in production it is collected and never fires.
    local_weak: bool
    receiver_id: Any = None


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
    if module:
        with contextlib.suppress(TypeError):
            _defined_in[signal] = module


def _signal_types() -> tuple[type, ...]:
    return tuple(t for lib in _libraries.values() for t in lib.signal_types)


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


def _table(signal: object) -> tuple[dict[Any, Connection], dict[Any, list[Connection]]]:
    key = id(signal)
    entry = _connections.get(key)
    if entry is None or entry[0]() is not signal:
        ref = weakref.ref(signal, lambda _ref: _connections.pop(key, None))
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
) -> Connection | None:
    """Remember where ``receiver`` was connected. The first connect of a lookup key wins, as in
    Django, which ignores a second connect with the same key."""
    by_key, by_logical = _table(signal)
    if lookup_key in by_key:
        return None
    info = _describe.describe_receiver(receiver)
    qualname = getattr(receiver, "__qualname__", "")
    connection = Connection(
        location=location,
        receiver_name=info.name,
        definition=info.location,
        weak=weak,
        dispatch_uid=None if dispatch_uid is None else _describe.summarize(dispatch_uid, 80),
        local_weak=weak and isinstance(qualname, str) and "<locals>" in qualname,
        receiver_id=info.logical_key,
    )
    if len(by_key) < _PER_SIGNAL_LIMIT:
        by_key[lookup_key] = connection
        # Kept after disconnect(): a receiver connected and disconnected within a request
        # (connect() in a view) still shows where it came from.
        places = by_logical.setdefault(info.logical_key, [])
        if len(places) < 100:
            places.append(connection)
    return connection


def note_disconnect(signal: object, lookup_key: Any) -> None:
    by_key, _by_logical = _table(signal)
    by_key.pop(lookup_key, None)


def connections_of(signal: object, info: _describe.ReceiverInfo) -> list[Connection]:
    """Every connection of the receiver ``info`` describes to ``signal`` seen since install()."""
    entry = _connections.get(id(signal))
    if entry is None or entry[0]() is not signal:
        return []
    return list(entry[2].get(info.logical_key, []))


def connection_places(signal: object, info: _describe.ReceiverInfo) -> list[str]:
    """``file:line`` places where that receiver was connected to ``signal``, without repeats."""
    places: list[str] = []
    for connection in connections_of(signal, info):
        if connection.location not in places:
            places.append(connection.location)
    return places


def connection_for(signal: object, lookup_key: Any) -> Connection | None:
    entry = _connections.get(id(signal))
    if entry is None or entry[0]() is not signal:
        return None
    return entry[1].get(lookup_key)
