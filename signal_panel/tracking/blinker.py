"""Instrumentation of ``blinker.Signal``.

``send`` and ``send_async`` are mirrored here with the same two additions as Django's dispatcher
(see :mod:`.django`): each receiver call is timed and recorded, and the recorder's context state
names the receiver while it runs, so the sends it makes (Django's or blinker's) nest under it.
Everything the caller can see is blinker's: receivers come from ``Signal.receivers_for`` (which
also prunes dead weak receivers), a muted signal calls nothing, coroutine receivers go through the
caller's ``_async_wrapper`` and plain ones through ``_sync_wrapper``, the same ``RuntimeError`` is
raised when a wrapper is missing, and the original receivers are returned in blinker's order.

Switching: the recorded methods are on the class from the first recording in the process on
(:mod:`signal_panel.tracking`); a context with no recording of its own, or a muted signal, goes
straight to blinker's function.

``connect``, ``disconnect`` and ``__init__`` are wrapped for good at install(), to learn where
receivers were connected and where signals were defined.

blinker is optional: without it :data:`AVAILABLE` is False, :func:`install` does nothing and no
``"blinker"`` library is registered with ``signal_panel.registry``.
"""

from __future__ import annotations

import functools
import inspect
import sys
import threading
import types
import weakref
from collections.abc import Callable, Hashable
from inspect import iscoroutinefunction
from typing import Any

from signal_panel import naming, registry
from signal_panel.tracking import rows
from signal_panel.tracking.django import _RecordedAwaitable, stepped
from signal_panel.tracking.rows import State
from signal_panel.tracking.switch import MethodSwitch

try:
    import blinker
    from blinker import Namespace, Signal
except ImportError:  # blinker cannot be imported: Django's signals are still recorded.
    #: Whether blinker is importable, and therefore tracked and listed in the registry.
    AVAILABLE = False
else:
    AVAILABLE = True

__all__ = ["AVAILABLE", "install", "methods"]

_MARK = "__signal_panel__"
#: The recorded send methods and what they replace.
methods: MethodSwitch[str] = MethodSwitch()
_baseline = methods.baseline
_state = rows.state
#: ``(library, robust, is_async)`` of ``send`` and ``send_async`` (blinker has no robust sends).
_KIND_SEND = ("blinker", False, False)
_KIND_SEND_ASYNC = ("blinker", False, True)


# -- the one place that reads blinker's internals ----------------------------------------------


def _own_make_id(obj: object) -> Hashable:
    # blinker's make_id (blinker/_utilities.py), for a blinker that no longer exports it.
    if inspect.ismethod(obj):
        return id(obj.__func__), id(obj.__self__)
    if isinstance(obj, (str, int)):
        return obj
    return id(obj)


def _blinker_internals() -> tuple[Callable[[object], Hashable], Hashable]:
    base = sys.modules.get("blinker.base")
    make_id = getattr(base, "make_id", None)
    return (make_id if callable(make_id) else _own_make_id), getattr(base, "ANY_ID", 0)


#: ``make_id(receiver)`` is blinker's key for a receiver in ``Signal.receivers`` and
#: ``Signal._by_receiver``; ``ANY_ID`` is the sender id of receivers connected for any sender.
_make_id, _ANY_ID = _blinker_internals() if AVAILABLE else (_own_make_id, 0)


def _sender_ids(signal: Any, receiver_id: Hashable) -> set[Any] | None:
    """The ids of the senders ``receiver_id`` is connected for, or None if unknown."""
    by_receiver = getattr(signal, "_by_receiver", None)
    if not isinstance(by_receiver, dict):
        return None
    senders = by_receiver.get(receiver_id)  # .get(): the dict is a defaultdict
    return set(senders) if senders is not None else set()


# -- recorded dispatch -------------------------------------------------------------------------


def _send(
    signal: Signal,
    sender: Any,
    async_wrapper: Any,
    kwargs: dict[str, Any],
    current: State,
) -> list[tuple[Callable[..., Any], Any]]:
    """blinker's ``send`` loop, each call recorded. The send's row is written when the first
    receiver comes, so that the sender is touched only as blinker's ``receivers_for`` does."""
    sends: list[Any] | None = None
    opened = False
    try:
        results = []
        for receiver in signal.receivers_for(sender):
            if not opened:
                opened = True
                sends = rows.open_send(current, signal, sender, kwargs, _KIND_SEND)
            is_async = iscoroutinefunction(receiver)
            started = rows.begin_call(current, sends, receiver, is_async) if sends else None
            token = _state.set(started[0]) if started is not None else None
            try:
                if is_async:
                    if async_wrapper is None:
                        raise RuntimeError("Cannot send to a coroutine function.")
                    result = async_wrapper(receiver)(sender, **kwargs)
                else:
                    result = receiver(sender, **kwargs)
            except BaseException as err:
                if started is not None:
                    _state.reset(token)  # type: ignore[arg-type]
                    rows.end_call(current, started[1], err, False)
                raise
            if started is not None:
                _state.reset(token)  # type: ignore[arg-type]
                rows.end_call(current, started[1], None, False)
            results.append((receiver, result))
        if not opened:
            rows.quiet_send(current, signal, sender, kwargs, _KIND_SEND)
        return results
    finally:
        if sends:
            rows.close_send_in(current, sends)


async def _send_async(
    signal: Signal,
    sender: Any,
    sync_wrapper: Any,
    kwargs: dict[str, Any],
    current: State,
) -> list[tuple[Callable[..., Any], Any]]:
    """blinker's ``send_async`` loop (receivers awaited one after another), each call recorded.

    The call is named in the context state while the receiver (or ``_sync_wrapper``) is called and
    during each step of the awaitable it returns, never while it is suspended.
    """
    sends: list[Any] | None = None
    opened = False
    try:
        results = []
        for receiver in signal.receivers_for(sender):
            if not opened:
                opened = True
                sends = rows.open_send(current, signal, sender, kwargs, _KIND_SEND_ASYNC)
            is_async = iscoroutinefunction(receiver)
            started = rows.begin_call(current, sends, receiver, is_async) if sends else None
            call_state = started[0] if started is not None else current
            token = _state.set(call_state)
            try:
                if not is_async:
                    if sync_wrapper is None:
                        raise RuntimeError("Cannot send to a non-coroutine function.")
                    awaitable = sync_wrapper(receiver)(sender, **kwargs)
                else:
                    awaitable = receiver(sender, **kwargs)
            except BaseException as err:
                _state.reset(token)
                if started is not None:
                    rows.end_call(current, started[1], err, False)
                raise
            _state.reset(token)
            result = await _RecordedAwaitable(stepped(awaitable), _given(started), current, False)
            results.append((receiver, result))
        if not opened:
            rows.quiet_send(current, signal, sender, kwargs, _KIND_SEND_ASYNC)
        return results
    finally:
        if sends:
            rows.close_send_in(current, sends)


def _given(started: tuple[State, list[Any]] | None) -> Any:
    """The ``start`` of a :class:`_RecordedAwaitable` whose call was begun already."""
    return lambda: started


def _ignores(current: State, signal: Signal) -> bool:
    """The one recording of the context ignores ``signal`` or has ended."""
    if len(current) != 1:
        return False
    tape = current[0][0]
    return id(signal) in tape.ignored or not tape.active


def _make_recorded() -> dict[str, Any]:
    blinker_send = Signal.__dict__["send"]
    blinker_send_async = Signal.__dict__["send_async"]

    # The signatures are blinker's, so a wrong call fails with blinker's TypeError.
    @functools.wraps(blinker_send)
    def send(
        self: Signal, sender: Any = None, /, *, _async_wrapper: Any = None, **kwargs: Any
    ) -> Any:
        current = _state.get()
        # A muted signal calls nothing: there is nothing to record.
        if not current or self.is_muted or _ignores(current, self):
            return _baseline["send"](self, sender, _async_wrapper=_async_wrapper, **kwargs)
        return _send(self, sender, _async_wrapper, kwargs, current)

    @functools.wraps(blinker_send_async)
    async def send_async(
        self: Signal, sender: Any = None, /, *, _sync_wrapper: Any = None, **kwargs: Any
    ) -> Any:
        current = _state.get()
        if not current or self.is_muted or _ignores(current, self):
            return await _baseline["send_async"](
                self, sender, _sync_wrapper=_sync_wrapper, **kwargs
            )
        return await _send_async(self, sender, _sync_wrapper, kwargs, current)

    recorded = {"send": send, "send_async": send_async}
    for method in recorded.values():
        setattr(method, _MARK, True)
    return recorded


# -- connect / disconnect / __init__ ----------------------------------------------------------


def _connect_args(receiver: Any, sender: Any = None, weak: bool = True) -> tuple[Any, bool]:
    return receiver, weak


def _disconnect_args(receiver: Any, sender: Any = None) -> Any:
    return receiver


def _is_live(entry: object) -> bool:
    if isinstance(entry, naming._weak):
        return entry() is not None
    return entry is not None


def _wrap_connect(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def connect(self: Signal, *args: Any, **kwargs: Any) -> Any:
        try:
            receiver, weak = _connect_args(*args, **kwargs)
            receiver_id = _make_id(receiver)
            # A new connection, not the same receiver for one more sender: forget what was noted
            # for a collected receiver whose id this one reuses.
            fresh = not _is_live(self.receivers.get(receiver_id))
        except Exception:
            receiver_id = None  # blinker's connect() will say what is wrong.
        result = original(self, *args, **kwargs)
        if receiver_id is None:
            return result
        try:
            if fresh:
                registry.note_disconnect(self, receiver_id)
            site = naming.connect_site()
            registry.note_connect(
                self, receiver, receiver_id, weak, None, site[0].split(" in ", 1)[0]
            )
            rows.note_connection("connect", self, receiver, site)
        except Exception:
            pass  # Never let bookkeeping break a connect().
        return result

    setattr(connect, _MARK, True)
    return connect


def _wrap_disconnect(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def disconnect(self: Signal, *args: Any, **kwargs: Any) -> Any:
        try:
            receiver = _disconnect_args(*args, **kwargs)
            receiver_id = _make_id(receiver)
            was_connected = receiver_id in self.receivers
        except Exception:
            receiver_id = None
        result = original(self, *args, **kwargs)
        if receiver_id is None:
            return result
        try:
            # Disconnecting from one sender keeps the receiver for its other senders.
            if receiver_id not in self.receivers or not _sender_ids(self, receiver_id):
                registry.note_disconnect(self, receiver_id)
                if was_connected:
                    rows.note_connection("disconnect", self, receiver)
        except Exception:
            pass
        return result

    setattr(disconnect, _MARK, True)
    return disconnect


def _meta_signal_codes() -> frozenset[types.CodeType]:
    # The ``receiver_connected``/``receiver_disconnected`` properties create a Signal per signal:
    # blinker's plumbing, not signals of the program.
    codes = set()
    for name in ("receiver_connected", "receiver_disconnected"):
        func = getattr(Signal.__dict__.get(name), "func", None)
        code = getattr(func, "__code__", None)
        if isinstance(code, types.CodeType):
            codes.add(code)
    return frozenset(codes)


_META_CODES: frozenset[types.CodeType] = frozenset()


def _creating_module(frame: types.FrameType | None) -> str | None:
    """The first module outside blinker on the stack (``Namespace.signal()``'s caller for a
    named signal), or None for blinker's meta-signals."""
    while frame is not None:
        if frame.f_code in _META_CODES:
            return None
        module = frame.f_globals.get("__name__")
        if not isinstance(module, str):
            return None
        if module != "blinker" and not module.startswith("blinker."):
            return module
        frame = frame.f_back
    return None


def _wrap_init(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def __init__(self: Signal, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        try:
            module = _creating_module(sys._getframe(1))
            if module is not None:
                registry.note_created(self, module)
        except Exception:
            pass

    setattr(__init__, _MARK, True)
    return __init__


# -- the registry ------------------------------------------------------------------------------


def _sender_text(signal: Signal, sender_ids: set[Any]) -> str:
    """Labels of the senders a receiver is limited to: those blinker holds a weak reference to,
    and string senders (their id is the string itself); other ids say nothing readable."""
    weak_senders = getattr(signal, "_weak_senders", None)
    labels = []
    for sender_id in sender_ids:
        ref = weak_senders.get(sender_id) if isinstance(weak_senders, dict) else None
        sender = ref() if isinstance(ref, naming._weak) else None
        if sender is not None:
            labels.append(naming.sender_label(sender) or "?")
        elif isinstance(sender_id, str):
            labels.append(naming.describe(sender_id, 80))
        else:
            labels.append("?")
    return ", ".join(sorted(labels))


def _list_receivers(signal: Signal) -> list[dict[str, Any]]:
    rows = []
    for receiver_id, entry in list(signal.receivers.items()):
        senders = _sender_ids(signal, receiver_id)
        if senders is not None and not senders:
            continue  # disconnected from each of its senders: never called
        weak = isinstance(entry, naming._weak)
        receiver = entry() if weak else entry
        connection = registry.connection_for(signal, receiver_id)
        if receiver is None:
            name, definition = (
                (connection.receiver_name, connection.definition)
                if connection
                else ("<collected>", "?")
            )
            is_async = False
        else:
            info = naming.receiver_info(receiver)
            name, definition = info.name, info.location
            is_async = iscoroutinefunction(receiver)
        limited = senders is not None and _ANY_ID not in senders
        rows.append(
            {
                "receiver": name,
                "definition": definition,
                "connected_at": connection.location if connection else None,
                "dispatch_uid": None,
                "sender_filter": limited,
                "sender": _sender_text(signal, senders) if limited and senders else "",
                "weak": weak,
                "is_async": is_async,
                "dead": receiver is None,
            }
        )
    return rows


_namespace_lock = threading.Lock()
_scanned_modules: set[str] = set()
#: ``module.attr`` -> weak reference to a module-level ``Namespace`` found by scanning.
_namespaces: dict[str, weakref.ref[Namespace]] = {}


def _scan_namespaces() -> list[tuple[str, Namespace]]:
    with _namespace_lock:
        for module_name, module in list(sys.modules.items()):
            if module_name in _scanned_modules or module is None:
                continue
            _scanned_modules.add(module_name)
            try:
                items = list(vars(module).items())
            except TypeError:
                continue
            for attr, value in items:
                # type(), not isinstance(): isinstance() would evaluate lazy objects.
                if issubclass(type(value), Namespace):
                    _namespaces[f"{module_name}.{attr}"] = naming._weak(value)
        found = [(label, ref()) for label, ref in _namespaces.items()]
    return [(label, namespace) for label, namespace in found if namespace is not None]


def _named_signals() -> dict[str, Any]:
    """Signals of ``blinker.signal()``'s default namespace, by name, and of the module-level
    ``Namespace`` objects of imported modules (by name, or ``module.attr:name`` if the name is
    taken)."""
    found: dict[str, Any] = {}
    namespaces: list[tuple[str, Namespace]] = [
        ("blinker.default_namespace", blinker.default_namespace)
    ]
    namespaces.extend(_scan_namespaces())
    for label, namespace in namespaces:
        for name, signal in list(namespace.items()):
            key = name if found.get(name, signal) is signal else f"{label}:{name}"
            found[key] = signal
    return found


def install() -> None:
    """Wrap ``connect``/``disconnect``/``__init__``, prepare the recorded send methods and register
    blinker with the registry. Idempotent; does nothing when blinker is not importable."""
    global _META_CODES
    if not AVAILABLE or getattr(Signal.__dict__.get("connect"), _MARK, False):
        return
    _META_CODES = _meta_signal_codes()
    for name, method in _make_recorded().items():
        methods.add(name, Signal, name, method)
    Signal.connect = _wrap_connect(Signal.__dict__["connect"])  # type: ignore[method-assign]
    Signal.disconnect = _wrap_disconnect(Signal.__dict__["disconnect"])  # type: ignore[method-assign]
    Signal.__init__ = _wrap_init(Signal.__dict__["__init__"])  # type: ignore[method-assign]
    registry.register_library(
        registry.Library(
            name="blinker",
            signal_types=(Signal,),
            list_receivers=_list_receivers,
            named_signals=_named_signals,
        )
    )
