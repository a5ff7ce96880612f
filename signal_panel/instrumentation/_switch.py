"""Putting recorded methods on a library's classes while something records, and back after."""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any, Generic, TypeVar

__all__ = ["MethodSwitch"]

K = TypeVar("K", bound=Hashable)


class MethodSwitch(Generic[K]):
    """Recorded methods, by key, and what they replace.

    :meth:`on` puts each recorded method on its class; :meth:`off` puts back what was there. They
    are registered with ``recording.register_switch``, which calls them when the first recording
    in the process starts and when the last one ends. ``baseline[key]`` is what the class had when
    recording was last switched on: the library's own function, or another library's patch
    installed after ours, which the recorded method then calls rather than replaces.
    """

    def __init__(self) -> None:
        self.recorded: dict[K, tuple[type, str, Any]] = {}
        self.baseline: dict[K, Any] = {}

    def add(self, key: K, cls: type, name: str, method: Any) -> None:
        self.recorded[key] = (cls, name, method)

    def on(self) -> None:
        for key, (cls, name, method) in self.recorded.items():
            current = cls.__dict__[name]
            if current is not method:
                self.baseline[key] = current
                setattr(cls, name, method)

    def off(self) -> None:
        for key, (cls, name, method) in self.recorded.items():
            # If another library patched over us meanwhile, its patch calls ours, which calls the
            # baseline when nothing records: leave it in place.
            if cls.__dict__[name] is method:
                setattr(cls, name, self.baseline[key])
