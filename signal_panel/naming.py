"""Safe names for what the observed program hands to a signal: receivers, senders, argument values
and call sites.

Two kinds of function live here:

- *At send time* (:func:`receiver_info`, :func:`sender_label`, :func:`snapshot`,
  :func:`find_callsite`), called by ``signal_panel.tracking`` while a send runs. They run none of
  the program's code: they read an object's ``type()``, a function's code object and names, a
  model class's ``_meta``, an instance's own ``__dict__``, and nothing that a property, a lazy
  proxy or an overridden dunder could answer (no ``repr``/``str``, no ``__class__`` (which
  ``isinstance()`` reads for objects of a foreign type), no ``__eq__``/``__hash__``/``__len__``
  of the program's objects). What they return holds no reference to the program's objects:
  builtin values, strings, and tuples of those.
- *At read time* (:func:`describe`, :func:`format_callsite`, :func:`short_path`), which turn what
  was kept into text, still without touching the program's objects (they are gone by then).

Caches are keyed by ``id()`` and checked through a weak reference, so they keep nothing alive, and
bounded.
"""

from __future__ import annotations

import datetime
import decimal
import enum
import functools
import itertools
import math
import os
import re
import sys
import sysconfig
import types
import uuid
import weakref
from collections.abc import Callable
from typing import Any, NamedTuple

from django.db.models import Model, QuerySet
from django.db.models.manager import BaseManager
from django.template.base import Template as _Template

__all__ = [
    "MASK",
    "SECRET_WORDS",
    "ReceiverInfo",
    "describe",
    "describe_model_args",
    "find_callsite",
    "format_callsite",
    "is_secret",
    "kept_parts",
    "mask",
    "mask_model_args",
    "portable",
    "receiver_info",
    "sender_label",
    "short_path",
    "snapshot",
]

_CACHE_LIMIT = 4096
MASK = "********"
# Bound once: tests of the observed program patch ``weakref.ref`` to count Django's calls.
_weak = weakref.ref
_getframe = sys._getframe

# CPython's own accessors, which no metaclass or instance can answer in the program's stead.
_type_dict: Callable[[type], Any] = type.__dict__["__dict__"].__get__
_type_qualname: Callable[[type], str] = type.__dict__["__qualname__"].__get__
_type_module: Callable[[type], Any] = type.__dict__["__module__"].__get__
_type_mro: Callable[[type], tuple[type, ...]] = type.__dict__["__mro__"].__get__
_object_dict = object.__dict__["__getattribute__"]


def _instance_dict(obj: object) -> dict[str, Any]:
    """An instance's own ``__dict__``, read past any ``__getattribute__`` of its class."""
    found: dict[str, Any] = _object_dict(obj, "__dict__")
    return found


#: Modules whose receivers and senders are the observer's (the toolbar's and this package's).
OBSERVER_PACKAGES = ("debug_toolbar", "signal_panel")


def _is_observer(module: str) -> bool:
    return module.split(".", 1)[0] in OBSERVER_PACKAGES


class ReceiverInfo(NamedTuple):
    """What a person needs to recognise a receiver, computed once per function or class."""

    name: str
    location: str
    #: Equal for receivers that are the same code: a module imported twice, a closure created per
    #: call, bound methods of different instances, a callable class's instances.
    logical_key: tuple[Any, ...]
    #: The receiver belongs to django-debug-toolbar or to this package.
    observer: bool = False


# -- paths --------------------------------------------------------------------------------------

_short_paths: dict[str, str] = {}


def short_path(filename: str) -> str:
    """``filename`` relative to the working directory or the ``sys.path`` entry that holds it."""
    short = _short_paths.get(filename)
    if short is None:
        short = filename
        best = ""
        for root in [os.getcwd(), *(p for p in sys.path if p and os.path.isabs(p))]:
            root = root.rstrip(os.sep) + os.sep
            if filename.startswith(root) and len(root) > len(best):
                best = root
        if best:
            short = filename[len(best) :]
        if len(_short_paths) > _CACHE_LIMIT:
            _short_paths.clear()
        _short_paths[filename] = short
    return short


def _real(filename: str) -> str:
    try:
        return os.path.realpath(filename)
    except (OSError, ValueError):
        return filename


def _text(value: object, default: str = "?") -> str:
    """``value`` if it is a real ``str`` (a name attribute the program may have set to anything)."""
    return value if type(value) is str else default


# -- classes ----------------------------------------------------------------------------------


class _Class(NamedTuple):
    """What :func:`learn_class` knows of a class."""

    ref: Any  # a weak reference to it: proves the id still names it, keeps it from nothing
    label: str  # auth.User for a model, else module.Qualname
    kind: int  # what its instances are (_OTHER, _MODEL, ...)
    attname: str | None  # a model's primary key attribute
    observer: bool  # a model of django-debug-toolbar (its store), whose signals are its own


# id(class) -> _Class.
_classes: dict[int, _Class] = {}
# What a class's instances are, for snapshot() and sender_label().
_OTHER, _MODEL, _QUERYSET, _MANAGER, _ENUM = range(5)


def _learn_class(cls: type) -> _Class:
    mro = _type_mro(cls)
    meta = _type_dict(cls).get("_meta")
    if Model in mro and meta is not None:
        pk = getattr(meta, "pk", None)
        attname = getattr(pk, "attname", None)
        return _Class(
            None,
            _text(getattr(meta, "label", None), _type_qualname(cls)),
            _MODEL,
            attname if type(attname) is str else None,
            _is_observer(_text(getattr(meta, "app_label", ""), "")),
        )
    kind = _OTHER
    if QuerySet in mro:
        kind = _QUERYSET
    elif BaseManager in mro:
        kind = _MANAGER
    elif enum.Enum in mro:
        kind = _ENUM
    return _Class(None, f"{_text(_type_module(cls))}.{_type_qualname(cls)}", kind, None, False)


def learn_class(cls: type) -> _Class:
    """What a label and a snapshot need of ``cls``, cached (by id, checked by weak reference)."""
    entry = _classes.get(id(cls))
    if entry is not None and entry.ref() is cls:
        return entry
    try:
        learnt = _learn_class(cls)
    except Exception:
        return _Class(None, "?", _OTHER, None, False)
    try:
        learnt = learnt._replace(ref=_weak(cls))
    except TypeError:
        return learnt
    if len(_classes) > _CACHE_LIMIT:
        _classes.clear()
    _classes[id(cls)] = learnt
    return learnt


def class_label(cls: type) -> tuple[str, int]:
    """``(label, kind)`` of a class: ``auth.User`` for a model, else ``module.Qualname``."""
    learnt = learn_class(cls)
    return learnt.label, learnt.kind


# -- receivers ----------------------------------------------------------------------------------

# id(function or other receiver) -> (weak reference to it, its description).
_receivers: dict[int, tuple[Any, ReceiverInfo]] = {}


def receiver_info(receiver: object) -> ReceiverInfo:
    """Name, definition place and logical identity of any callable. Never raises; runs none of
    the receiver's code (a mock is not asked for anything, a callable object's class is read)."""
    kind = type(receiver)
    target = receiver.__func__ if kind is types.MethodType else receiver  # type: ignore[attr-defined]
    entry = _receivers.get(id(target))
    if entry is not None and entry[0]() is target:
        return entry[1]
    try:
        info = _describe_receiver(target, 0)
    except Exception:
        return _fallback(receiver)
    try:
        ref = _weak(target)
    except TypeError:
        return info
    if len(_receivers) > _CACHE_LIMIT:
        _receivers.clear()
    _receivers[id(target)] = (ref, info)
    return info


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
    module = _text(func.__module__)
    qualname = _text(func.__qualname__)
    code = _unwrap(func).__code__
    return ReceiverInfo(
        name=f"{module}.{qualname}",
        location=f"{short_path(code.co_filename)}:{code.co_firstlineno}",
        # Not the module name: a module imported under two names is the same receiver twice.
        logical_key=("code", _real(code.co_filename), code.co_firstlineno, qualname),
        observer=_is_observer(module),
    )


def _describe_receiver(receiver: object, depth: int) -> ReceiverInfo:
    kind = type(receiver)
    if depth > 5:
        return _fallback(receiver)
    if kind is types.FunctionType:
        return _function_info(receiver)  # type: ignore[arg-type]
    if kind is types.MethodType or kind is staticmethod or kind is classmethod:
        return _describe_receiver(receiver.__func__, depth + 1)  # type: ignore[attr-defined]
    if kind is functools.partial:
        inner = _describe_receiver(receiver.func, depth + 1)  # type: ignore[attr-defined]
        return inner._replace(
            name=f"functools.partial({inner.name})", logical_key=("partial", *inner.logical_key)
        )
    if kind is types.BuiltinFunctionType or kind is types.MethodWrapperType:
        owner = receiver.__self__  # type: ignore[attr-defined]
        module = _text(getattr(receiver, "__module__", None), "")
        if not module and owner is not None and type(owner) is not types.ModuleType:
            module = _text(_type_module(type(owner)), "")
        qualname = _text(receiver.__qualname__)  # type: ignore[attr-defined]
        name = f"{module}.{qualname}" if module else qualname
        return ReceiverInfo(name, "<built-in>", ("builtin", name))
    label, _ = class_label(kind)
    mro = _type_mro(kind)
    mock = sys.modules.get("unittest.mock")
    if mock is not None and mock.NonCallableMock in mro:
        name = _text(_instance_dict(receiver).get("_mock_name"), "")
        text = f"<{_type_qualname(kind)} name={name!r}>" if name else f"<{_type_qualname(kind)}>"
        return ReceiverInfo(text, "<mock>", ("mock", id(receiver)))
    if type in mro:  # a class used as a receiver
        cls_label, _ = class_label(receiver)  # type: ignore[arg-type]
        init = _type_dict(receiver).get("__init__")  # type: ignore[arg-type]
        code = getattr(init, "__code__", None) if type(init) is types.FunctionType else None
        where = f"{short_path(code.co_filename)}:{code.co_firstlineno}" if code else "?"
        module = _text(_type_module(receiver), "")  # type: ignore[arg-type]
        return ReceiverInfo(cls_label, where, ("class", cls_label), _is_observer(module))
    # A callable object: name it after its class, place it at its class's __call__.
    call = None
    for base in mro:
        call = _type_dict(base).get("__call__")
        if call is not None:
            break
    if call is None:
        return _fallback(receiver)
    name = f"{label}.__call__"
    module = _text(_type_module(kind), "")
    code = getattr(call, "__code__", None) if type(call) is types.FunctionType else None
    if code is None:
        return ReceiverInfo(name, "?", ("type", name), _is_observer(module))
    return ReceiverInfo(
        name,
        f"{short_path(code.co_filename)}:{code.co_firstlineno}",
        ("code", _real(code.co_filename), code.co_firstlineno, name),
        _is_observer(module),
    )


def _fallback(obj: object) -> ReceiverInfo:
    kind = type(obj)
    name = f"<{_text(_type_module(kind))}.{_type_qualname(kind)} object>"
    return ReceiverInfo(name, "?", ("id", id(obj)))


# -- senders --------------------------------------------------------------------------------------

#: What :func:`sender_label` returns for a sender whose signals are the observer's own.
OBSERVER = None


def sender_label(sender: object) -> str | None:
    """A short label for a sender, taken at send time: ``None``, ``auth.User``,
    ``myapp.views.Checkout``, ``'text'``, ``<auth.User pk=3>``, ``<module.Class object>``; None
    for the debug toolbar's own models, whose signals are not the project's."""
    if sender is None:
        return "None"
    entry = _classes.get(id(sender))
    if entry is not None and entry[0]() is sender:  # a class seen before
        return OBSERVER if entry[4] else entry[1]
    try:
        if type in _type_mro(type(sender)):
            learnt = learn_class(sender)  # type: ignore[arg-type]
            return OBSERVER if learnt.observer else learnt.label
        return describe(snapshot(sender, 60), 60)
    except Exception:
        return "?"


# -- values -------------------------------------------------------------------------------------

# Tags of what snapshot() keeps of a value that is not kept as it is.
_T_TEXT = "text"  # (tag, first characters, length): a long str or bytes
_T_ITEMS = "items"  # (tag, type name, length, item snapshots): an exact list, tuple, set, dict
_T_MODEL = "model"  # (tag, label, primary key snapshot)
_T_OF = "of"  # (tag, type name, model label): a queryset or a manager
_T_CLASS = "class"  # (tag, label)
_T_NAMED = "named"  # (tag, text): a function, an enum member, a stdlib value's text
_T_OBJECT = "object"  # (tag, class label)
# Only in what portable() makes of a snapshot: (tag, the text describe() gives for it there).
_T_SHOWN = "shown"

#: Values kept as they are: builtin, immutable, holding nothing of the program.
_KEPT: frozenset[type] = frozenset({type(None), bool, int, float, complex})
#: Immutable standard-library values whose ``repr`` is the library's own.
_STDLIB_VALUES: frozenset[type] = frozenset(
    {
        decimal.Decimal,
        datetime.date,
        datetime.datetime,
        datetime.time,
        datetime.timedelta,
        datetime.timezone,
        uuid.UUID,
    }
)
_CONTAINERS: dict[type, tuple[str, str]] = {
    list: ("[", "]"),
    tuple: ("(", ")"),
    set: ("{", "}"),
    frozenset: ("frozenset({", "})"),
    dict: ("{", "}"),
}
_BRACKETS = {kind.__name__: brackets for kind, brackets in _CONTAINERS.items()}
_SHOWN_ITEMS = 5


def snapshot(value: object, limit: int, depth: int = 0) -> Any:
    """What to keep of ``value`` to describe it later: the value itself when it is a builtin
    scalar or a short string, else a tuple of plain values (see the ``_T_*`` tags). Runs none of
    the value's code and keeps no reference to it. Never raises."""
    kind = type(value)
    if kind in _KEPT:
        return value
    if kind is str or kind is bytes:
        if len(value) <= limit:  # type: ignore[arg-type]
            return value
        return (_T_TEXT, value[:limit], len(value))  # type: ignore[index,arg-type]
    try:
        if kind in _CONTAINERS:
            return _items(value, kind, depth)
        entry = _classes.get(id(kind))
        if entry is None or entry[0]() is not kind:
            entry = learn_class(kind)
        what = entry.kind
        if what == _MODEL:
            attname = entry[3]
            pk = _instance_dict(value).get(attname) if attname else None
            if type(pk) not in _KEPT:
                pk = snapshot(pk, 40, 2)
            return (_T_MODEL, entry[1], pk)
        if kind in _STDLIB_VALUES:
            return (_T_NAMED, repr(value))
        if kind is types.FunctionType:
            return (_T_NAMED, receiver_info(value).name)
        if type in _type_mro(kind):
            return (_T_CLASS, learn_class(value).label)  # type: ignore[arg-type]
        if what in (_QUERYSET, _MANAGER):
            model = _instance_dict(value).get("model")
            of = learn_class(model).label if type in _type_mro(type(model)) else "?"  # type: ignore[arg-type]
            return (_T_OF, _type_qualname(kind), of)
        if what == _ENUM:
            name = _instance_dict(value).get("_name_")
            return (_T_NAMED, f"{entry.label}.{_text(name)}")
        if kind is _Template:  # template_rendered's sender: named by the template's name
            return (_T_NAMED, f"<Template {_text(_instance_dict(value).get('name'), '?')!r}>")
        return (_T_OBJECT, entry.label)
    except Exception:
        return (_T_OBJECT, "?")


def _items(value: Any, kind: type, depth: int) -> tuple[Any, ...]:
    """The snapshot of an exact builtin container: its length and its first items' snapshots
    (iterating an exact container runs no code of its items)."""
    size = len(value)
    if depth >= 2:
        return (_T_ITEMS, kind.__name__, size, None)
    inner = depth + 1
    items: list[Any] = []
    if kind is dict:
        for key, item in dict.items(value):
            if len(items) == _SHOWN_ITEMS:
                break
            items.append(
                (
                    key if type(key) in _KEPT else snapshot(key, 30, inner),
                    item if type(item) in _KEPT else snapshot(item, 40, inner),
                    key if type(key) is str else None,
                )
            )
    else:
        for item in value:
            if len(items) == _SHOWN_ITEMS:
                break
            items.append(item if type(item) in _KEPT else snapshot(item, 40, inner))
    return (_T_ITEMS, kind.__name__, size, tuple(items))


#: What :func:`kept_parts` calls each tag.
_KINDS = {
    _T_TEXT: "text",
    _T_ITEMS: "items",
    _T_MODEL: "model",
    _T_OF: "queryset",
    _T_CLASS: "class",
    _T_NAMED: "named",
    _T_OBJECT: "object",
}


def kept_parts(kept: tuple[Any, ...]) -> tuple[str, str | None, Any, int | None]:
    """``(kind, label, pk, length)`` of what :func:`snapshot` kept of a value it did not keep as
    it was: kind ``"model"`` (label, pk), ``"queryset"`` (the model's label), ``"class"`` and
    ``"object"`` (the class's label), ``"items"`` (the type's name, the length), ``"text"`` (the
    length), ``"named"``. Never raises."""
    try:
        kind = _KINDS.get(kept[0], "object")
        if kind == "text":
            return kind, None, None, int(kept[2])
        if kind == "items":
            return kind, str(kept[1]), None, int(kept[2])
        if kind == "model":
            return kind, str(kept[1]), kept[2], None
        if kind == "queryset":
            return kind, str(kept[2]), None, None
        if kind in ("class", "object"):
            return kind, str(kept[1]), None, None
        return kind, None, None, None
    except Exception:
        return "object", None, None, None


def _key_text(key: object) -> str | None:
    """A dict key's text, for masking secrets by name."""
    return key if type(key) is str else None


def _truncate(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text)} chars)"


def describe(kept: Any, limit: int, secret: re.Pattern[str] | None = None, depth: int = 0) -> str:
    """A one-line, bounded text for what :func:`snapshot` kept. Dict items whose key matches
    ``secret`` are masked. Never raises."""
    try:
        kind = type(kept)
        if kind is not tuple and kind is not list:  # a list: a snapshot back from JSON
            if kind is str and len(kept) > limit:
                return f"{kept[:limit]!r}… ({len(kept)} chars)"
            return _truncate(repr(kept), limit)
        tag = kept[0]
        if tag == _T_TEXT:
            unit = "chars" if type(kept[1]) is str else "bytes"
            return f"{kept[1]!r}… ({kept[2]} {unit})"
        if tag == _T_ITEMS:
            _, name, size, items = kept
            if items is None:
                return f"<{name} of {size}>"
            opening, closing = _BRACKETS.get(name, ("[", "]"))
            if name == "dict":
                parts = [
                    f"{describe(k, 30, secret, depth + 1)}: "
                    + (
                        mask()
                        if secret is not None and is_secret(text, secret)
                        else describe(v, 40, secret, depth + 1)
                    )
                    for k, v, text in items
                ]
            else:
                parts = [describe(item, 40, secret, depth + 1) for item in items]
            if size > len(items):
                parts.append(f"… {size - len(items)} more")
            return _truncate(f"{opening}{', '.join(parts)}{closing}", limit)
        if tag == _T_MODEL:
            if secret is not None and is_secret(_pk_name(kept[1]), secret):
                return f"<{kept[1]} pk={mask()}>"  # a session's pk is its key
            return f"<{kept[1]} pk={describe(kept[2], 40)}>"
        if tag == _T_OF:
            return f"<{kept[1]} of {kept[2]}>"
        if tag in (_T_CLASS, _T_NAMED):
            return _truncate(str(kept[1]), limit)
        if tag == _T_SHOWN:
            return str(kept[1])
        return f"<{kept[1]} object>"
    except Exception:
        return "<?>"


#: Types of the values JSON holds as they are (a float only when it is finite).
_JSON_SCALARS = frozenset({str, int, bool, type(None)})


def portable(kept: Any, limit: int, secret: re.Pattern[str]) -> Any:
    """What :func:`snapshot` kept, as JSON keeps it (the toolbar's store), secrets already
    masked: :func:`describe` gives the same text for the result as for ``kept``, after a trip
    through JSON too. Scalars JSON holds exactly stay as they are, tagged tuples become lists,
    anything else (bytes, complex, an infinite float) and every masked value becomes its text.
    ``limit`` is the one :func:`describe` would use there. Never raises."""
    try:
        kind = type(kept)
        if kind in _JSON_SCALARS:
            return kept
        if kind is float and math.isfinite(kept):
            return kept
        if kind is not tuple:
            return (_T_SHOWN, describe(kept, limit))
        tag = kept[0]
        if tag == _T_ITEMS:
            items = kept[3]
            if not items:
                return kept
            changed: list[Any] | None = None  # the items, once one of them changed
            if kept[1] == "dict":
                for at, (k, v, text) in enumerate(items):
                    new_k = k if type(k) in _JSON_SCALARS else portable(k, 30, secret)
                    if is_secret(text, secret):
                        new_v: Any = (_T_SHOWN, mask())
                    else:
                        new_v = v if type(v) in _JSON_SCALARS else portable(v, 40, secret)
                    if changed is None and (new_k is not k or new_v is not v):
                        changed = list(items[:at])
                    if changed is not None:
                        changed.append((new_k, new_v, text))
            else:
                for at, item in enumerate(items):
                    new = item if type(item) in _JSON_SCALARS else portable(item, 40, secret)
                    if changed is None and new is not item:
                        changed = list(items[:at])
                    if changed is not None:
                        changed.append(new)
            return kept if changed is None else (tag, kept[1], kept[2], changed)
        if tag == _T_MODEL:
            if is_secret(_pk_name(kept[1]), secret):
                return (tag, kept[1], None)  # describe() masks it: a session's pk is its key
            pk = kept[2]
            if type(pk) in _JSON_SCALARS:
                return kept  # JSON writes the tuple as a list
            return (tag, kept[1], portable(pk, 40, secret))
        if tag == _T_TEXT and type(kept[1]) is not str:
            return (_T_SHOWN, describe(kept, limit))
        return kept
    except Exception:
        return (_T_SHOWN, "<?>")


#: model label -> the name of its primary key field (read when describing, from the app registry).
_pk_names: dict[str, str] = {}


def _pk_name(label: str) -> str:
    name = _pk_names.get(label)
    if name is None:
        try:
            from django.apps import apps

            pk = apps.get_model(label)._meta.pk
            name = pk.name if pk is not None else ""
        except Exception:
            name = ""
        _pk_names[label] = name
    return name


def describe_model_args(label: str, kept: Any, limit: int, secret: re.Pattern[str]) -> str:
    """:func:`describe` for ``pre_init``'s positional ``args``: the field values of the model
    labelled ``label``, in field order (as ``Model.__init__`` reads them), with the values of
    fields whose names are secret masked (a user's password hash, a session's data)."""
    return describe(mask_model_args(label, kept, secret), limit, secret)


def mask_model_args(label: str, kept: Any, secret: re.Pattern[str]) -> Any:
    """The snapshot of ``pre_init``'s positional ``args`` with the values of the secret fields
    of the model labelled ``label`` masked (see :func:`describe_model_args`)."""
    try:
        if type(kept) is tuple and kept[0] == _T_ITEMS and kept[3]:
            from django.apps import apps

            meta = apps.get_model(label)._meta
            _tag, name, size, items = kept
            fields = meta.concrete_fields if size <= len(meta.concrete_fields) else meta.fields
            hidden = (_T_NAMED, mask())
            masked = tuple(
                hidden
                if is_secret(field.name, secret) or is_secret(field.attname, secret)
                else item
                for field, item in zip(fields, items, strict=False)
            )
            kept = (_T_ITEMS, name, size, masked + items[len(masked) :])
    except Exception:
        pass
    return kept


#: Words that make a name secret wherever they stand in it: ``accessToken``, ``access_token``
#: and ``ACCESS-TOKEN`` all hold ``token``. Added to what Django's exception reporter filter hides.
SECRET_WORDS = frozenset(
    {
        "apikey",
        "auth",
        "authorization",
        "card",
        "cookie",
        "cookies",
        "credential",
        "credentials",
        "csrf",
        "cvc",
        "cvv",
        "key",
        "otp",
        "passphrase",
        "passwd",
        "password",
        "pin",
        "pwd",
        "secret",
        "session",
        "sessionid",
        "signature",
        "ssn",
        "token",
    }
)
_WORD = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")
# (pattern, name) -> masked?
_secret_names: dict[tuple[str, str], bool] = {}


def _django_filter() -> Any:
    from django.views.debug import get_default_exception_reporter_filter

    return get_default_exception_reporter_filter()


def mask() -> str:
    """What a secret value is shown as: the exception reporter filter's cleansed substitute."""
    try:
        substitute = _django_filter().cleansed_substitute
    except Exception:
        return MASK
    return substitute if type(substitute) is str else MASK


def is_secret(name: object, secret: re.Pattern[str]) -> bool:
    """Whether a value named ``name`` (a kwarg, a dict key) is a secret: its name matches
    ``SECRET_PATTERN``, the project's exception reporter filter's ``hidden_settings`` (Django's
    ``API|AUTH|TOKEN|KEY|SECRET|PASS|SIGNATURE|HTTP_COOKIE`` by default), or holds one of
    :data:`SECRET_WORDS` in any case or spelling (``sessionKey``, ``x-csrf-token``)."""
    if type(name) is not str:
        return False
    key = (secret.pattern, name)
    found = _secret_names.get(key)
    if found is None:
        found = _judge(name, secret)
        if len(_secret_names) > _CACHE_LIMIT:
            _secret_names.clear()
        _secret_names[key] = found
    return found


def _judge(name: str, secret: re.Pattern[str]) -> bool:
    try:
        if secret.search(name):
            return True
        hidden = getattr(_django_filter(), "hidden_settings", None)
        if hidden is not None and hidden.search(name):
            return True
    except Exception:
        return True  # cannot tell: mask
    words = [word.lower() for word in _WORD.findall(name)]
    pairs = (a + b for a, b in itertools.pairwise(words))
    return any(word in SECRET_WORDS for word in words) or any(p in SECRET_WORDS for p in pairs)


# -- call sites ---------------------------------------------------------------------------------

#: Packages whose frames are never a send's call site.
_INSTRUMENTED = ("django", "asgiref", "debug_toolbar", "blinker", "signal_panel")


def _package_roots(names: tuple[str, ...]) -> tuple[str, ...]:
    roots = set()
    for module in names:
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


def _stdlib_roots() -> tuple[str, ...]:
    roots = set()
    paths = sysconfig.get_paths()
    for name in ("stdlib", "platstdlib"):
        if paths.get(name):
            roots.add(os.path.realpath(paths[name]) + os.sep)
            roots.add(paths[name] + os.sep)
    return tuple(sorted(roots))


#: filename -> 0 (the project's), 1 (another library's), 2 (instrumented or standard library).
_file_kinds: dict[str, int] = {}
_roots: list[tuple[str, ...]] = []


def _hidden_in_stacktraces() -> tuple[str, ...]:
    """The files of the modules the toolbar's ``HIDE_IN_STACKTRACES`` names (the SQL panel's own
    setting, which developers already tune): never a call site."""
    try:
        from debug_toolbar.settings import get_config

        names = tuple(get_config().get("HIDE_IN_STACKTRACES", ()))
    except Exception:
        return ()
    found: list[str] = []
    for name in names:
        module = sys.modules.get(name)
        path = getattr(module, "__file__", None)
        if not isinstance(path, str):
            continue
        if os.path.basename(path) == "__init__.py":
            directory = os.path.dirname(path)
            found.extend({directory + os.sep, os.path.realpath(directory) + os.sep})
        else:
            found.extend({path, os.path.realpath(path)})
    return tuple(found)


def _file_kind(filename: str) -> int:
    if not _roots:
        # Worked out first, then stored at once: importing the toolbar's settings may send a
        # signal, which asks for a call site again.
        computed = (_package_roots(_INSTRUMENTED) + _hidden_in_stacktraces(), _stdlib_roots())
        _roots[:] = computed
    instrumented, stdlib = _roots[0], _roots[1]
    if filename.startswith("<") or filename.startswith(instrumented):
        return 2
    if "site-packages" in filename or "dist-packages" in filename:
        return 1
    return 2 if filename.startswith(stdlib) else 0


def instrumented_file(filename: str) -> bool:
    """Whether ``filename`` belongs to Django, asgiref, the toolbar, blinker, this package or the
    standard library."""
    return _file_kind(filename) == 2


def project_file(filename: str) -> bool:
    """Whether ``filename`` is the project's own: not in site-packages, the standard library or
    an instrumented library."""
    return _file_kind(filename) == 0


def receiver_file(info: ReceiverInfo) -> str:
    """The file the receiver ``info`` describes is defined in: the one its logical key names (a
    code object's file), else the one of its ``file:line``; absolute."""
    for part in info.logical_key:
        if isinstance(part, str) and os.sep in part:
            return part if os.path.isabs(part) else os.path.abspath(part)
    return os.path.abspath(info.location.rsplit(":", 1)[0])


def project_receiver(info: ReceiverInfo) -> bool:
    """Whether the receiver ``info`` describes is defined in the project's own code (not Django,
    a library, the standard library, the toolbar or this package)."""
    return not info.observer and project_file(receiver_file(info))


def library_package(info: ReceiverInfo) -> str:
    """The package of the library the receiver ``info`` describes belongs to
    (:func:`receiver_package`), or "" when it is the project's own."""
    return "" if project_receiver(info) else receiver_package(info.name)


def receiver_package(name: str) -> str:
    """The package a receiver's dotted name belongs to: its top-level package, or for Django's
    contrib apps the app (``django.contrib.auth``)."""
    parts = name.split(".")
    if parts[0] == "django" and len(parts) > 3 and parts[1] == "contrib":
        return ".".join(parts[:3])
    return parts[0]


def find_callsite(skip: int = 1) -> tuple[types.CodeType, int] | None:
    """The code and instruction offset of the first frame of the project on the stack: not in
    site-packages, the standard library or an instrumented library; else the first frame outside
    the instrumented libraries and the standard library. Raw material only: the offset becomes a
    line when read (:func:`format_callsite`). ``skip``: frames of the caller's own to pass over
    at once (they are this package's)."""
    try:
        frame: types.FrameType | None = _getframe(skip)
    except ValueError:  # a shallower stack than the caller thought (a send at module level)
        frame = _getframe(1)
    fallback: tuple[types.CodeType, int] | None = None
    kinds = _file_kinds
    while frame is not None:
        code = frame.f_code
        kind = kinds.get(code.co_filename)
        if kind is None:
            kind = _file_kind(code.co_filename)
            if len(kinds) > _CACHE_LIMIT:
                kinds.clear()
            kinds[code.co_filename] = kind
        if kind == 0:
            return code, frame.f_lasti
        if kind == 1 and fallback is None:
            fallback = code, frame.f_lasti
        frame = frame.f_back
    return fallback


def called_by_project(skip: int = 1) -> bool:
    """Whether the first frame on the stack outside Django, the instrumented libraries and the
    standard library is the project's (not a library's: django-treebeard keeping its tree's
    counts with ``update()``, say)."""
    try:
        frame: types.FrameType | None = _getframe(skip)
    except ValueError:
        return True
    while frame is not None:
        kind = _file_kind(frame.f_code.co_filename)
        if kind != 2:
            return kind == 0
        frame = frame.f_back
    return True


#: Frames passed over to find where a receiver was connected: this package's, Django's
#: dispatcher (the ``@receiver`` decorator) and Django's lazy connection of ``"app.Model"``
#: senders (``ModelSignal`` and the app registry's pending operations).
_CONNECT_PLUMBING = (
    os.sep + os.path.join("django", "dispatch", "dispatcher.py"),
    os.sep + os.path.join("django", "db", "models", "signals.py"),
    os.sep + os.path.join("django", "apps", "registry.py"),
    os.sep + os.path.join("blinker", "base.py"),
)
_LAZY = os.sep + os.path.join("django", "apps", "registry.py")
_own_roots: list[str] = []


def connect_site() -> tuple[str, bool, bool]:
    """Where the ``connect()`` being run was called, whoever's code called it (the line of a
    ``@receiver`` decorator, a ``ready()`` of Django's own); whether it runs at start-up rather
    than as the program serves (while a module is imported, or as Django's deferred connection
    of a receiver for a lazy ``"app.Model"`` sender once that model is registered); and whether
    the project's own code called it (not Django's test client or a library's lazy set-up)."""
    frame: types.FrameType | None = _getframe(1)
    site = "?"
    found = False
    start_up = False
    by_project = False
    if not _own_roots:
        _own_roots.extend(_package_roots(("signal_panel",)))
    own = tuple(_own_roots)
    while frame is not None:
        filename = frame.f_code.co_filename
        if filename.startswith("<frozen importlib") or (
            filename.endswith(_LAZY) and frame.f_code.co_name == "do_pending_operations"
        ):
            start_up = True
            break
        if not found and not filename.startswith(own) and not filename.endswith(_CONNECT_PLUMBING):
            site = format_callsite(frame.f_code, frame.f_lasti)
            by_project = _file_kind(filename) == 0
            found = True
        frame = frame.f_back
    return site, start_up, by_project


# (id(code), lasti) -> (code, its text): a page's sends come from a few lines, read once per
# send by the panel, and finding the line walks the code's line table. The code is kept, so
# its id stays its own while the entry lives.
_callsites: dict[tuple[int, int], tuple[types.CodeType, str]] = {}


def format_callsite(code: types.CodeType | None, lasti: int) -> str:
    """``file:line in function`` for a call site found by :func:`find_callsite`."""
    if code is None:
        return ""
    key = (id(code), lasti)
    known = _callsites.get(key)
    if known is not None and known[0] is code:
        return known[1]
    text = f"{short_path(code.co_filename)}:{line_at(code, lasti)} in {code.co_qualname}"
    if len(_callsites) > _CACHE_LIMIT:
        _callsites.clear()
    _callsites[key] = (code, text)
    return text


def callsite_text(default: str = "?") -> str:
    """:func:`find_callsite`, as text now (for rare events: connect(), bulk operations), or
    ``default`` when the stack holds no frame outside the instrumented libraries."""
    found = find_callsite()
    return format_callsite(*found) if found is not None else default


def line_at(code: types.CodeType, lasti: int) -> int:
    """The line of the instruction at byte offset ``lasti`` of ``code``, as ``frame.f_lineno``
    tells it (the first line of the code where the instruction has none)."""
    if lasti >= 0:
        for start, end, line in code.co_lines():
            if start <= lasti < end:
                return line if line is not None else code.co_firstlineno
    return code.co_firstlineno
