"""Putting recorded methods on a library's classes, once, when the first recording starts."""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any, Generic, TypeVar

__all__ = ["MethodSwitch"]

K = TypeVar("K", bound=Hashable)


class MethodSwitch(Generic[K]):
    """Recorded methods, by key, and what they replace.

    :meth:`on` puts each recorded method on its class, once: they stay there for the life of the
    process, and the classes are never changed again (each change makes Python drop its attribute
    cache and specialised code for the class and its subclasses; from Python 3.13 a class changed
    a thousand times is never cached again). ``baseline[key]`` is what the class had then: the
    library's own function, or another library's patch installed after ours, which the recorded
    method calls when its context records nothing.

    A library that wraps a recorded method afterwards (``Signal.send = wrap(Signal.send)``) puts
    its wrapper over ours, which stays under it: the wrapper runs, and calls ours, which records
    or calls the library's function.
    """

    def __init__(self) -> None:
        self.recorded: dict[K, tuple[type, str, Any]] = {}
        self.baseline: dict[K, Any] = {}
        #: Whether :meth:`on` has put the recorded methods on their classes.
        self.is_on = False
        #: How many class attributes this switch has set (one per recorded method, once).
        self.changes = 0

    def add(self, key: K, cls: type, name: str, method: Any) -> None:
        self.recorded[key] = (cls, name, method)
        self.baseline.setdefault(key, cls.__dict__[name])

    def on(self) -> None:
        """Put the recorded methods on their classes; does nothing the second time."""
        if self.is_on:
            return
        for key, (cls, name, method) in self.recorded.items():
            current = cls.__dict__[name]
            if current is not method:
                self.baseline[key] = current
                setattr(cls, name, method)
                self.changes += 1
        self.is_on = True
