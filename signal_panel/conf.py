"""The ``SIGNAL_PANEL`` settings dict: defaults, validation and the per-recording snapshot."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from django.conf import settings

__all__ = ["DEFAULTS", "Config", "get_config", "validate"]

#: Every key of ``SIGNAL_PANEL`` with its default. docs/settings.md lists the same keys and
#: defaults; ``tests/test_docs.py`` keeps the two in sync.
DEFAULTS: dict[str, Any] = {
    # Receiver calls kept per recording; past it calls are counted, not stored.
    "MAX_CALLS": 10_000,
    # Sends kept per recording (a run of alike sends without receivers is kept as one); past it
    # sends and their calls are counted, not stored.
    "MAX_SENDS": 20_000,
    # A receiver call at least this long is reported as slow.
    "SLOW_RECEIVER_MS": 5.0,
    # Longest summary of one kwarg value or sender, in characters.
    "SUMMARY_LENGTH": 120,
    # Kwargs whose name matches this pattern (re.search) are masked.
    "SECRET_PATTERN": (
        r"(?i)(^|_)(pass|password|passwd|passphrase|pwd|token|secret|key|apikey|auth"
        r"|authorization|credentials?|session|sessionid|cookie|signature|csrf)(\d*$|_)"
    ),
    # Find the first frame outside Django and the libraries for each send.
    "CAPTURE_CALLSITE": True,
    # Dotted names of signals that are never recorded.
    "IGNORE_SIGNALS": [],
    # Receivers (dotted names or fnmatch patterns such as "wagtail.*") whose calls are counted,
    # not recorded.
    "IGNORE_RECEIVERS": [],
    # Problems not reported: a kind ("slow_receiver"), or a kind and a receiver pattern
    # ("bypassed_receivers:wagtail.*").
    "IGNORE_PROBLEMS": [],
    # A receiver call running the same SQL at least this many times is a likely N+1.
    "REPEATED_QUERY_THRESHOLD": 5,
    # Show the registry of every known signal and its receivers in the panel.
    "SHOW_REGISTRY": True,
    # Record django-debug-toolbar's and this package's own receivers too (counted, not shown, when
    # False).
    "SHOW_TOOLBAR_ACTIVITY": False,
    # In the panel's timeline, fold the calls of one library's receivers under a send into one row
    # per package (unfolded with its toggle).
    "FOLD_LIBRARY_RECEIVERS": True,
}

_TYPES: dict[str, tuple[type, ...]] = {
    "MAX_CALLS": (int,),
    "MAX_SENDS": (int,),
    "SLOW_RECEIVER_MS": (int, float),
    "SUMMARY_LENGTH": (int,),
    "SECRET_PATTERN": (str,),
    "CAPTURE_CALLSITE": (bool,),
    "IGNORE_SIGNALS": (list, tuple),
    "IGNORE_RECEIVERS": (list, tuple),
    "IGNORE_PROBLEMS": (list, tuple),
    "REPEATED_QUERY_THRESHOLD": (int,),
    "SHOW_REGISTRY": (bool,),
    "SHOW_TOOLBAR_ACTIVITY": (bool,),
    "FOLD_LIBRARY_RECEIVERS": (bool,),
}


def validate(value: object) -> list[str]:
    """Return one readable message per problem with a ``SIGNAL_PANEL`` value (empty if fine)."""
    if not isinstance(value, dict):
        return [f"SIGNAL_PANEL must be a dict, not {type(value).__name__}."]
    errors = []
    for key, item in value.items():
        if key not in DEFAULTS:
            known = ", ".join(sorted(DEFAULTS))
            errors.append(f"SIGNAL_PANEL has an unknown key {key!r}; known keys: {known}.")
            continue
        types = _TYPES[key]
        if not isinstance(item, types) or (isinstance(item, bool) and bool not in types):
            wanted = " or ".join(t.__name__ for t in types)
            errors.append(
                f"SIGNAL_PANEL[{key!r}] must be {wanted}, not {type(item).__name__} ({item!r})."
            )
            continue
        # The isinstance() checks repeat the type check above for the type checker.
        if key in ("MAX_CALLS", "MAX_SENDS", "SUMMARY_LENGTH", "REPEATED_QUERY_THRESHOLD"):
            if isinstance(item, int) and item < 1:
                errors.append(f"SIGNAL_PANEL[{key!r}] must be at least 1, not {item!r}.")
        elif key == "SLOW_RECEIVER_MS":
            if isinstance(item, (int, float)) and not (math.isfinite(item) and item >= 0):
                errors.append(
                    f"SIGNAL_PANEL[{key!r}] must be a finite number of at least 0, not {item!r}."
                )
        elif key == "SECRET_PATTERN" and isinstance(item, str):
            try:
                re.compile(item)
            except re.error as exc:
                errors.append(f"SIGNAL_PANEL['SECRET_PATTERN'] is not a valid regex: {exc}.")
        elif (
            key == "IGNORE_SIGNALS"
            and isinstance(item, (list, tuple))
            and not all(isinstance(name, str) for name in item)
        ):
            errors.append("SIGNAL_PANEL['IGNORE_SIGNALS'] must list dotted signal names (str).")
        elif (
            key == "IGNORE_RECEIVERS"
            and isinstance(item, (list, tuple))
            and not all(isinstance(name, str) and name for name in item)
        ):
            errors.append(
                "SIGNAL_PANEL['IGNORE_RECEIVERS'] must list receiver names or patterns (str)."
            )
        elif key == "IGNORE_PROBLEMS" and isinstance(item, (list, tuple)):
            errors.extend(_problem_pattern_errors(item))
    return errors


#: The kinds of problem, worst first (``signal_panel.problems.KINDS``; the settings check needs them
#: without importing the analysis). The panel and the text tree show them in this order.
PROBLEM_KINDS = (
    "raised_error",
    "recursion",
    "duplicate_receiver",
    "ignored_return",
    "swallowed_error",
    "discarded_on_commit",
    "receiver_not_run",
    "connect_during_request",
    "bypassed_receivers",
    "repeated_query",
    # Below what this request did wrong: it is about how a receiver was connected (usually at
    # start-up), and it does no harm under DEBUG=True.
    "vanishing_receiver",
    "slow_receiver",
)


def _problem_pattern_errors(patterns: list[Any] | tuple[Any, ...]) -> list[str]:
    errors = []
    for pattern in patterns:
        if not isinstance(pattern, str):
            errors.append(
                "SIGNAL_PANEL['IGNORE_PROBLEMS'] must list problem kinds or 'kind:receiver "
                f"pattern' strings, not {type(pattern).__name__}."
            )
            continue
        kind = pattern.split(":", 1)[0]
        if kind not in PROBLEM_KINDS:
            errors.append(
                f"SIGNAL_PANEL['IGNORE_PROBLEMS'] names {kind!r}, which is no kind of problem; "
                f"the kinds are {', '.join(PROBLEM_KINDS)}."
            )
    return errors


@dataclass(frozen=True)
class Config:
    """The settings one recording runs with, read once when it starts."""

    max_calls: int
    max_sends: int
    slow_receiver_ns: int
    summary_length: int
    secret_pattern: re.Pattern[str]
    capture_callsite: bool
    ignore_signals: frozenset[str]
    ignore_receivers: tuple[str, ...]
    ignore_problems: tuple[str, ...]
    repeated_query_threshold: int
    show_registry: bool
    show_observer: bool
    fold_library_receivers: bool = True


_pattern_cache: dict[str, re.Pattern[str]] = {}


def _compile(pattern: str) -> re.Pattern[str]:
    compiled = _pattern_cache.get(pattern)
    if compiled is None:
        compiled = _pattern_cache[pattern] = re.compile(pattern)
    return compiled


def get_config() -> Config:
    """Read ``SIGNAL_PANEL`` now; invalid entries fall back to their defaults.

    The system check reports invalid entries at start-up, so a request never fails because of them.
    """
    raw = getattr(settings, "SIGNAL_PANEL", None) if settings.configured else None
    merged = dict(DEFAULTS)
    if isinstance(raw, dict):
        for key, value in raw.items():
            if key in DEFAULTS and not validate({key: value}):
                merged[key] = value
    return Config(
        max_calls=int(merged["MAX_CALLS"]),
        max_sends=int(merged["MAX_SENDS"]),
        slow_receiver_ns=int(float(merged["SLOW_RECEIVER_MS"]) * 1_000_000),
        summary_length=int(merged["SUMMARY_LENGTH"]),
        secret_pattern=_compile(merged["SECRET_PATTERN"]),
        capture_callsite=bool(merged["CAPTURE_CALLSITE"]),
        ignore_signals=frozenset(merged["IGNORE_SIGNALS"]),
        ignore_receivers=tuple(merged["IGNORE_RECEIVERS"]),
        ignore_problems=tuple(merged["IGNORE_PROBLEMS"]),
        repeated_query_threshold=int(merged["REPEATED_QUERY_THRESHOLD"]),
        show_registry=bool(merged["SHOW_REGISTRY"]),
        show_observer=bool(merged["SHOW_TOOLBAR_ACTIVITY"]),
        fold_library_receivers=bool(merged["FOLD_LIBRARY_RECEIVERS"]),
    )
