"""Putting recorded methods on a library's classes while something records, and back after."""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any, Generic, TypeVar

__all__ = ["MethodSwitch"]

K = TypeVar("K", bound=Hashable)


class MethodSwitch(Generic[K]):
    """Recorded methods, by key, and what they replace.

    :meth:`on` puts each recorded method on its class; :meth:`off` puts back what was there.
    ``baseline[key]`` is what the class had when recording was switched on: the library's own
    function, or another library's patch installed after ours, which the recorded method then
    calls when its context records nothing.

    The switch never adopts itself. If another library wraps the recorded method while it is on
    (``Signal.send = wrap(Signal.send)``), :meth:`off` leaves that wrapper in place, and from then
    on the recorded method stays under it for good (``baseline`` is unchanged): the wrapper keeps
    running, and calls ours, which calls the library's function. Were the wrapper taken as the
    baseline, ours would call the wrapper, which calls ours, without end.
    """

    def __init__(self) -> None:
        self.recorded: dict[K, tuple[type, str, Any]] = {}
        self.baseline: dict[K, Any] = {}
        #: Keys whose recorded method another library wrapped: left alone from then on.
        self.wrapped: set[K] = set()

    def add(self, key: K, cls: type, name: str, method: Any) -> None:
        self.recorded[key] = (cls, name, method)
        self.baseline.setdefault(key, cls.__dict__[name])

    def on(self) -> None:
        for key, (cls, name, method) in self.recorded.items():
            current = cls.__dict__[name]
            if current is not method and key not in self.wrapped:
                self.baseline[key] = current
                setattr(cls, name, method)

    def off(self) -> None:
        for key, (cls, name, method) in self.recorded.items():
            current = cls.__dict__[name]
            if current is method:
                # Ours, directly (again, if a wrapper over it was taken away).
                setattr(cls, name, self.baseline[key])
                self.wrapped.discard(key)
            elif current is not self.baseline[key]:
                # Another library put a wrapper over ours while recording was on.
                self.wrapped.add(key)
