"""Receivers of every shape, each noting the arguments it was called with, and the kwargs to send
them: for the tests that compare what receivers get with and without recording."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any
from unittest import mock

from hypothesis import strategies as st


class CallableReceiver:
    def __init__(self, seen: list[Any]):
        self.seen = seen

    def __call__(self, **kwargs: Any) -> Any:
        self.seen.append(("instance", list(kwargs.items())))
        return "instance"

    def method(self, sender: Any, **kwargs: Any) -> Any:
        self.seen.append(("method", sender, list(kwargs.items())))
        return "method"


def receiver_of(kind: str, seen: list[Any]) -> Callable[..., Any]:
    if kind == "function":

        def function(sender: Any, **kwargs: Any) -> Any:
            seen.append(("function", sender, list(kwargs.items())))
            return "function"

        return function
    if kind == "named_only":

        def named_only(signal: Any, sender: Any) -> Any:  # fails when kwargs are sent
            seen.append(("named_only", signal, sender))
            return "named_only"

        return named_only
    if kind == "partial":

        def partial_target(tag: str, sender: Any, **kwargs: Any) -> Any:
            seen.append((tag, sender, list(kwargs.items())))
            return tag

        return functools.partial(partial_target, "partial")
    if kind == "instance":
        return CallableReceiver(seen)
    if kind == "method":
        return CallableReceiver(seen).method
    return mock.Mock(return_value="mock")


kwarg_names = st.lists(
    st.from_regex(r"[a-z][a-z0-9_]{0,6}", fullmatch=True).filter(
        lambda name: name not in {"sender", "signal", "self", "tag"}
    ),
    unique=True,
    max_size=20,
)
receiver_kinds = st.lists(
    st.sampled_from(["function", "named_only", "partial", "instance", "method", "mock"]),
    min_size=1,
    max_size=4,
)
