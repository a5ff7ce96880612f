"""Naming receivers and senders, summarising values and finding call sites, safely.

Everything here runs on objects that belong to the observed program, so nothing here may raise,
run a database query, send a signal or call a model's ``__str__``: each describer falls back to a
plain label built from the object's type. The costly parts (names, paths) are cached per code
object or per class, because the instrumentation asks for them on every receiver call.
"""

from __future__ import annotations

import functools
import os
import re
import sys
import sysconfig
import types
import weakref
from collections.abc import Mapping
from typing import Any, NamedTuple, cast

from django.db.models import Model, QuerySet
from django.db.models.base import ModelBase
from django.db.models.manager import BaseManager

__all__ = [
    "ReceiverInfo",
    "describe_receiver",
    "format_callsite",
    "sender_label",
    "short_path",
    "summarize",
    "summarize_kwargs",
]

_CACHE_LIMIT = 4096
MASK = "********"


class ReceiverInfo(NamedTuple):
    """What a person needs to recognise a receiver, computed once per code object or class."""

    name: str
    location: str
    #: Equal for receivers that are the same code: a module imported twice, a closure created per
    #: call, bound methods of different instances, a callable class's instances.
    logical_key: tuple[Any, ...]


# -- paths --------------------------------------------------------------------------------------

_short_paths: dict[str, str] = {}


def short_path(filename: str) -> str:
    """``filename`` relative to the working directory or the ``sys.path`` entry that holds it."""
    short = _short_paths.get(filename)
    if short is None:
        short = filename
        roots = [os.getcwd(), *(p for p in sys.path if p and os.path.isabs(p))]
        best = ""
        for root in roots:
            root = root.rstrip(os.sep) + os.sep
            if filename.startswith(root) and len(root) > len(best):
                best = root
        if best:
            short = filename[len(best) :]
        if len(_short_paths) > _CACHE_LIMIT:
            _short_paths.clear()
        _short_paths[filename] = short
    return short


def _location(code: types.CodeType) -> str:
    return f"{short_path(code.co_filename)}:{code.co_firstlineno}"


def _real(filename: str) -> str:
    try:
        return os.path.realpath(filename)
    except (OSError, ValueError):
        return filename


# -- receivers ----------------------------------------------------------------------------------

_receiver_cache: dict[Any, ReceiverInfo] = {}
# Functions share a code object when they are closures made by one factory, or wrappers made by
# one decorator (functools.wraps copies each wrapped function's names onto its wrapper). So the
# cache, keyed by code object, remembers the names it was computed for and is only trusted when
# the function at hand carries those very name objects.
# Keyed by id(): code objects compare (and hash) by content, so two compilations of one file (a
# module imported under two names) would share an entry, and hashing one is slow. The entry holds
# the code object, so its id cannot be reused while the entry lives.
_function_cache: dict[int, tuple[types.CodeType, ReceiverInfo, str, str]] = {}


# The same descriptions keyed by id() of the function object itself, checked through a weak
# reference (which keeps nothing alive): the recorder's shortest path, read inline per call.
by_function: dict[int, tuple[weakref.ref[Any], ReceiverInfo]] = {}


def cached_receiver_info(receiver: object) -> ReceiverInfo | None:
    """The cached description of a plain function receiver, or None (then use
    :func:`describe_receiver`). The recorder's shortest path."""
    if type(receiver) is types.FunctionType:
        code = receiver.__code__
        entry = _function_cache.get(id(code))
        if (
            entry is not None
            and entry[0] is code
            and entry[2] is receiver.__qualname__
            and entry[3] is receiver.__module__
        ):
            return entry[1]
    return None


def describe_receiver(receiver: object) -> ReceiverInfo:
    """Name, definition place and logical identity of any callable. Never raises."""
    try:
        kind = type(receiver)
        if kind is types.FunctionType or kind is types.MethodType:
            func = receiver.__func__ if kind is types.MethodType else receiver  # type: ignore[attr-defined]
            if type(func) is types.FunctionType:
                info = cached_receiver_info(func)
                if info is None:
                    info = _function_info(func)
                    if len(_function_cache) > _CACHE_LIMIT:
                        _function_cache.clear()
                    code = func.__code__
                    _function_cache[id(code)] = (code, info, func.__qualname__, func.__module__)
                if kind is types.FunctionType:
                    if len(by_function) > _CACHE_LIMIT:
                        by_function.clear()
                    by_function[id(func)] = (weakref.ref(func), info)
                return info
        return _describe_other(receiver, 0)
    except Exception:
        return _fallback(receiver)


def _remember(key: object, info: ReceiverInfo) -> None:
    if len(_receiver_cache) > _CACHE_LIMIT:
        _receiver_cache.clear()
    _receiver_cache[key] = info


def _unwrap(func: types.FunctionType) -> types.FunctionType:
    """The function a ``functools.wraps`` decorator wrapped (its definition is the useful place)."""
    inner = func
    for _ in range(10):
        wrapped = inner.__dict__.get("__wrapped__")
        if type(wrapped) is not types.FunctionType:
            break
        inner = wrapped
    return inner


def _function_info(func: types.FunctionType) -> ReceiverInfo:
    module = func.__module__ or "?"
    qualname = func.__qualname__
    code = _unwrap(func).__code__
    return ReceiverInfo(
        name=f"{module}.{qualname}",
        location=_location(code),
        # Not the module name: a module imported under two names is the same receiver twice.
        logical_key=("code", _real(code.co_filename), code.co_firstlineno, qualname),
    )


def _describe_other(receiver: object, depth: int) -> ReceiverInfo:
    if depth > 5:
        return _fallback(receiver)
    kind = type(receiver)
    if kind is types.FunctionType:
        return _function_info(receiver)  # type: ignore[arg-type]
    if kind is types.MethodType:
        return _describe_other(receiver.__func__, depth + 1)  # type: ignore[attr-defined]
    if isinstance(receiver, functools.partial):
        inner = _describe_other(receiver.func, depth + 1)
        return ReceiverInfo(
            name=f"functools.partial({inner.name})",
            location=inner.location,
            logical_key=("partial", *inner.logical_key),
        )
    if isinstance(receiver, (staticmethod, classmethod)):
        return _describe_other(receiver.__func__, depth + 1)
    if kind is types.BuiltinFunctionType or kind is types.BuiltinMethodType:
        owner = getattr(receiver, "__self__", None)
        module = getattr(receiver, "__module__", None)
        if module is None and owner is not None and not isinstance(owner, types.ModuleType):
            module = type(owner).__module__
        qualname = str(getattr(receiver, "__qualname__", None) or kind.__name__)
        name = f"{module}.{qualname}" if module else qualname
        return ReceiverInfo(name=name, location="<built-in>", logical_key=("builtin", name))
    mock = sys.modules.get("unittest.mock")
    if mock is not None and isinstance(receiver, mock.NonCallableMock):
        try:
            text = repr(receiver)
        except Exception:
            text = object.__repr__(receiver)
        text = re.sub(r" id='\d+'", "", text)
        return ReceiverInfo(name=text, location="<mock>", logical_key=("mock", id(receiver)))
    if isinstance(receiver, type):
        info = _receiver_cache.get(receiver)
        if info is None:
            init = receiver.__dict__.get("__init__")
            location = _location(init.__code__) if isinstance(init, types.FunctionType) else "?"
            name = f"{receiver.__module__}.{receiver.__qualname__}"
            info = ReceiverInfo(name=name, location=location, logical_key=("class", name))
            _remember(receiver, info)
        return info
    if not callable(receiver):
        return _fallback(receiver)
    # A callable object: name it after its class, place it at its __call__.
    info = _receiver_cache.get(kind)
    if info is None:
        call = getattr(kind, "__call__", None)  # noqa: B004 - the type's attribute, not callable()
        code = getattr(call, "__code__", None)
        name = f"{kind.__module__}.{kind.__qualname__}.__call__"
        if isinstance(code, types.CodeType):
            info = ReceiverInfo(
                name=name,
                location=_location(code),
                logical_key=("code", _real(code.co_filename), code.co_firstlineno, name),
            )
        else:
            info = ReceiverInfo(name=name, location="?", logical_key=("type", name))
        _remember(kind, info)
    return info


def _fallback(obj: object) -> ReceiverInfo:
    name = f"<{type(obj).__module__}.{type(obj).__qualname__} object>"
    return ReceiverInfo(name=name, location="?", logical_key=("id", id(obj)))


# -- senders and values -------------------------------------------------------------------------

# Class labels keyed by id(); the weak reference proves the id still names the same class and keeps
# the cache from holding a sender alive.
_class_labels: dict[int, tuple[weakref.ref[type], str]] = {}


def _class_label(cls: type) -> str:
    entry = _class_labels.get(id(cls))
    if entry is not None and entry[0]() is cls:
        return entry[1]
    if isinstance(cls, ModelBase):
        label = str(cast("type[Model]", cls)._meta.label)
    else:
        label = f"{cls.__module__}.{cls.__qualname__}"
    key = id(cls)
    try:
        ref = weakref.ref(cls, lambda _ref: _class_labels.pop(key, None))
    except TypeError:
        return label
    if len(_class_labels) > _CACHE_LIMIT:
        _class_labels.clear()
    _class_labels[key] = (ref, label)
    return label


# Labels of model classes keyed by the class itself: Django's app registry keeps every model class
# alive anyway, so this cache keeps nothing alive that would otherwise die. None marks the debug
# toolbar's own models, whose signals (its store saving) are not the user's.
_model_labels: dict[object, str | None] = {None: "None"}


def fast_sender_label(sender: object, limit: int) -> str | None:
    """:func:`sender_label`, cached for model classes; None for the debug toolbar's own models."""
    try:
        label = _model_labels.get(sender, _MISSING)
    except TypeError:  # an unhashable sender (e.g. a model instance without a primary key)
        label = _MISSING
    if label is not _MISSING:
        return label  # type: ignore[return-value]
    if isinstance(sender, ModelBase):
        label = _class_label(sender)
        if len(_model_labels) > _CACHE_LIMIT:
            _model_labels.clear()
            _model_labels[None] = "None"
        is_toolbar = cast("type[Model]", sender)._meta.app_label == "debug_toolbar"
        _model_labels[sender] = None if is_toolbar else label
        return None if is_toolbar else label
    return sender_label(sender, limit)


def sender_label(sender: object, limit: int) -> str:
    """A short label for a sender: ``None``, ``auth.User``, ``myapp.views.Checkout``, a repr."""
    if sender is None:
        return "None"
    try:
        if isinstance(sender, type):
            return _class_label(sender)
    except Exception:
        return f"<{type(sender).__qualname__}>"
    return summarize(sender, limit)


def _truncate(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text)} chars)"


def _model_instance(value: Model) -> str:
    pk_field = value._meta.pk
    pk = value.__dict__.get(pk_field.attname) if pk_field is not None else None
    return f"<{_class_label(type(value))} pk={summarize(pk, 40)}>"


_SCALARS = (int, float, complex)
_MISSING = object()


def summarize(
    value: object, limit: int, _depth: int = 0, _seen: frozenset[int] = frozenset()
) -> str:
    """A one-line, bounded description of ``value``. Never raises.

    Model instances show their label and primary key (never ``__str__``), querysets their model
    (never evaluated), containers a few items, long text is cut with its length, and an object
    whose ``repr`` raises is shown as such.
    """
    try:
        kind = type(value)
        if value is None or kind is bool:
            return repr(value)
        if kind is str:
            text: str = value  # type: ignore[assignment]
            if len(text) > limit:
                return f"{text[:limit]!r}… ({len(text)} chars)"
            return repr(text)
        if kind is bytes or kind is bytearray:
            data: bytes = value  # type: ignore[assignment]
            if len(data) > limit:
                return f"{data[:limit]!r}… ({len(data)} bytes)"
            return repr(data)
        if isinstance(value, _SCALARS):
            return _truncate(repr(value), limit)
        if isinstance(value, type):
            return _class_label(value)
        if isinstance(value, Model):
            return _model_instance(value)
        if isinstance(value, QuerySet):
            return f"<QuerySet of {_class_label(value.model)}>"
        if isinstance(value, BaseManager):
            model = getattr(value, "model", None)
            of = _class_label(model) if isinstance(model, type) else "?"
            return f"<{kind.__qualname__} of {of}>"
        if kind in (list, tuple, set, frozenset) or isinstance(value, Mapping):
            return _container(value, limit, _depth, _seen)
        text = repr(value)
    except Exception as exc:
        return f"<{type(value).__name__} (repr failed: {type(exc).__name__})>"
    return _truncate(text, limit)


def _container(value: Any, limit: int, depth: int, seen: frozenset[int]) -> str:
    kind = type(value)
    if id(value) in seen:
        return f"<recursive {kind.__qualname__}>"
    size = len(value)
    if depth >= 2:
        return f"<{kind.__qualname__} of {size}>"
    seen = seen | {id(value)}
    shown = 5
    if isinstance(value, Mapping):
        parts = [
            f"{summarize(k, 30, depth + 1, seen)}: {summarize(v, 40, depth + 1, seen)}"
            for k, v in list(value.items())[:shown]
        ]
        opening, closing = "{", "}"
    else:
        # Items in iteration order: sorting a set would call its items' repr (a model's repr
        # calls __str__, which may query).
        parts = [summarize(item, 40, depth + 1, seen) for item in list(value)[:shown]]
        brackets: dict[type, tuple[str, str]] = {
            list: ("[", "]"),
            tuple: ("(", ")"),
            set: ("{", "}"),
            frozenset: ("frozenset({", "})"),
        }
        opening, closing = brackets[kind]
    if size > shown:
        parts.append(f"… {size - shown} more")
    return _truncate(f"{opening}{', '.join(parts)}{closing}", limit)


# Per secret pattern: {kwarg name: masked?}.
_masks: dict[str, dict[str, bool]] = {}
# How snapshot() took a value: what the flat tuple it returns says after each name.
_TOOK_PK = 0  # a model instance's primary key
_TOOK_COPY = 1  # a shallow copy of a mutable container
_TOOK_SUMMARY = 2  # a summary (a container longer than a summary shows)

# What to take at send time from a kwarg value of each type seen: the primary key's attname for
# model classes, _COPY for mutable containers, None for the rest.
_COPY = "<copy>"
_SNAPSHOT_LIMIT = 32
_CONTAINERS: dict[type, str | None] = {dict: _COPY, list: _COPY, set: _COPY, bytearray: _COPY}
_take: dict[type, str | None] = dict(_CONTAINERS)


def _classify(value: object) -> str | None:
    if isinstance(value, Model):
        pk = value._meta.pk
        return pk.attname if pk is not None else None
    return None


def how_to_take(value: object) -> str | None:
    """What :func:`~signal_panel._hotpath.snapshot` takes of values of ``value``'s type (see
    ``_take``), learnt once per type."""
    kind = type(value)
    how = _take.get(kind, _MISSING)
    if how is _MISSING:
        how = _classify(value)
        if len(_take) > _CACHE_LIMIT:
            _take.clear()
            _take.update(_CONTAINERS)
        _take[kind] = how
    return how  # type: ignore[return-value]


def summarize_kwargs(
    named: dict[str, Any],
    limit: int,
    secret: re.Pattern[str],
    taken: tuple[Any, ...] | None = None,
) -> dict[str, str]:
    """``{name: summary}``; names that look secret have masked values, and what
    :func:`snapshot` took at send time is shown instead of the value as it is now."""
    masks = _masks.get(secret.pattern)
    if masks is None:
        masks = _masks[secret.pattern] = {}
    taken = taken or ()
    took = {taken[i]: (taken[i + 1], taken[i + 2]) for i in range(0, len(taken), 3)}
    out: dict[str, str] = {}
    for key, value in named.items():
        masked = masks.get(key)
        if masked is None:
            try:
                masked = bool(secret.search(key))
            except TypeError:  # a non-str key passed through **
                masked = False
            if len(masks) > _CACHE_LIMIT:
                masks.clear()
            masks[key] = masked
        if masked:
            out[key] = MASK
        elif key in took:
            how, then = took[key]
            if how == _TOOK_PK:
                out[key] = f"<{_class_label(type(value))} pk={summarize(then, 40)}>"
            elif how == _TOOK_SUMMARY:
                out[key] = _truncate(then, limit)
            else:
                out[key] = summarize(then, limit)
        else:
            out[key] = summarize(value, limit)
    return out


# -- call sites ---------------------------------------------------------------------------------


def _library_roots() -> tuple[str, ...]:
    roots = set()
    paths = sysconfig.get_paths()
    for name in ("stdlib", "platstdlib"):
        if paths.get(name):
            roots.add(os.path.realpath(paths[name]) + os.sep)
            roots.add(paths[name] + os.sep)
    for module in ("django", "asgiref", "debug_toolbar", "blinker", "signal_panel"):
        mod = sys.modules.get(module)
        if mod is None:
            try:
                mod = __import__(module)
            except ImportError:
                continue
        for path in getattr(mod, "__path__", []):
            roots.add(path.rstrip(os.sep) + os.sep)
            roots.add(os.path.realpath(path) + os.sep)
    return tuple(sorted(roots))


_library_files: dict[str, bool] = {}
_roots: tuple[str, ...] = ()


def _is_library(filename: str) -> bool:
    global _roots
    if not _roots:
        _roots = _library_roots()
    if filename.startswith("<"):  # <frozen importlib._bootstrap>, <string>
        return True
    # site-packages lives under stdlib's lib/pythonX.Y in a venv-less install: check it first.
    if "site-packages" in filename or "dist-packages" in filename:
        return filename.startswith(tuple(r for r in _roots if "-packages" in r))
    return filename.startswith(_roots)


def is_library_file(filename: str) -> bool:
    """Whether code in ``filename`` belongs to the instrumented libraries (cached)."""
    library = _library_files.get(filename)
    if library is None:
        library = _is_library(filename)
        if len(_library_files) > _CACHE_LIMIT:
            _library_files.clear()
        _library_files[filename] = library
    return library


def format_callsite(code: types.CodeType | None, lasti: int) -> str:
    """``file:line in function`` for a call site found by
    :func:`~signal_panel._hotpath.find_callsite` (a code object and an instruction offset)."""
    if code is None:
        return ""
    return f"{short_path(code.co_filename)}:{line_at(code, lasti)} in {code.co_qualname}"


def line_at(code: types.CodeType, lasti: int) -> int:
    """The line of the instruction at byte offset ``lasti`` of ``code``, as ``frame.f_lineno``
    tells it (the first line of the code where the instruction has none)."""
    if lasti >= 0:
        for start, end, line in code.co_lines():
            if start <= lasti < end:
                return line if line is not None else code.co_firstlineno
    return code.co_firstlineno
