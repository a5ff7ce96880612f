"""A recording as text for a terminal: the timeline as an indented tree, then the problems.

Used by ``Recording.format_tree()``, the failure messages of ``signal_panel.testing``'s assertions
and the ``signaltrace`` management command. Everything that came from the observed program (names,
summaries, error messages) has its control characters escaped, so a value cannot break a line or
send escape sequences to the terminal.
"""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING

from signal_panel import recording as _recording
from signal_panel.recording import Nested, drive

if TYPE_CHECKING:
    from signal_panel.problems import Problem
    from signal_panel.recording import ReceiverCall, Recording, Send

__all__ = ["format_tree"]

# Control characters, line and paragraph separators, and bidirectional overrides ("Trojan
# Source"): anything that could change what the terminal shows beyond the character itself.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}

_RESET = "\x1b[0m"
_BOLD = "\x1b[1m"
_DIM = "\x1b[2m"
_RED = "\x1b[31m"
_GREEN = "\x1b[32m"
_YELLOW = "\x1b[33m"
_CYAN = "\x1b[36m"

#: Problem kinds shown in red; the others are warnings (yellow).
_SEVERE = frozenset({"raised_error", "recursion"})


def _escape_char(match: re.Match[str]) -> str:
    char = match.group()
    named = _NAMED.get(char)
    if named is not None:
        return named
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _clean(text: str) -> str:
    """``text`` on one line, with control characters shown as escapes."""
    return _UNSAFE.sub(_escape_char, text)


def _shorten(text: str) -> str:
    return text if len(text) <= _KWARG_LENGTH else text[: _KWARG_LENGTH - 1] + "…"


def _duration(ns: int) -> str:
    if ns >= 1_000_000_000:
        return f"{ns / 1e9:.2f} s"
    return f"{ns / 1e6:.2f} ms"


def _plural(count: int, singular: str, plural: str | None = None) -> str:
    return f"{count} {singular if count == 1 else (plural or singular + 's')}"


def _signal(send: Send) -> str:
    """``post_save`` for Django's own signals, whose last names are unique; others in full."""
    name = send.signal_name
    if send.library == "django" and name.startswith("django."):
        return name.rsplit(".", 1)[-1]
    return name


def _method(send: Send) -> str:
    return ("a" if send.is_async else "") + ("send_robust" if send.robust else "send")


def _own_ns(call: ReceiverCall) -> int:
    return call.duration_ns - sum(child.duration_ns for child in call.sends)


def _wants_color() -> bool:
    # https://no-color.org: a non-empty NO_COLOR turns colours off wherever they would be on.
    if os.environ.get("NO_COLOR"):
        return False
    from django.core.management.color import supports_color

    return bool(supports_color())


class _Writer:
    """Builds the lines, with or without ANSI colours."""

    def __init__(self, recording: Recording, color: bool):
        self.recording = recording
        self.color = color
        self.lines: list[str] = []

    def paint(self, text: str, *styles: str) -> str:
        if not self.color or not styles or not text:
            return text
        return f"{''.join(styles)}{text}{_RESET}"

    # -- the tree -------------------------------------------------------------------------------

    # Each writer of a subtree yields the writers of its children instead of calling them
    # (see recording.drive), so a tree of any depth is written without recursion.

    def roots(self, sends: list[Send]) -> Nested:
        for item in _fold(sends):
            if isinstance(item, list):
                self.lines.append(self.folded(item))
            else:
                yield self.send(item, "", None)

    def sends(self, sends: list[Send], prefix: str) -> Nested:
        items = _fold(sends)
        for index, item in enumerate(items):
            last = index == len(items) - 1
            if isinstance(item, list):
                branch = prefix + ("└─ " if last else "├─ ")
                self.lines.append(self.paint(branch, _DIM) + self.folded(item))
            else:
                yield self.send(item, prefix, last)

    def send(self, send: Send, prefix: str, last: bool | None) -> Nested:
        if last is None:  # a root send
            branch, inner = "", ""
        else:
            branch = prefix + ("└─ " if last else "├─ ")
            inner = prefix + ("   " if last else "│  ")
        name = self.paint(_clean(_signal(send)), _BOLD, _CYAN)
        arguments = [f"sender={_clean(send.sender)}"]
        arguments.extend(
            f"{_clean(key)}={_clean(_shorten(value))}" for key, value in send.kwargs.items()
        )
        parts = [f"{name}({', '.join(arguments)})"]
        if send.calls:
            parts.append(self.paint(_duration(send.duration_ns), _DIM))
        else:
            parts.append(self.paint("no receivers", _DIM))
        method = _method(send)
        if method != "send":
            parts.append(f"[{method}]")
        if send.library != "django":
            parts.append(f"[{_clean(send.library)}]")
        callsite = send.callsite
        if callsite:
            parts.append(self.paint(f"at {_clean(callsite)}", _DIM))
        self.lines.append(self.paint(branch, _DIM) + "  ".join(parts))
        calls = send.calls
        for index, call in enumerate(calls):
            yield self.call(call, inner, index == len(calls) - 1)

    def folded(self, sends: list[Send]) -> str:
        counts: dict[tuple[str, str], int] = {}
        for send in sends:
            key = (_signal(send), send.sender)
            counts[key] = counts.get(key, 0) + send.count
        kinds = [
            f"{self.paint(_clean(name), _CYAN)}(sender={_clean(sender)})"
            + (f" ×{count}" if count > 1 else "")  # noqa: RUF001 - a multiplication sign
            for (name, sender), count in counts.items()
        ]
        if len(kinds) > _FOLD_KINDS:
            kinds[_FOLD_KINDS:] = [f"{len(kinds) - _FOLD_KINDS} more"]
        total = sum(counts.values())
        return f"{self.paint(f'{total} sends without receivers:', _DIM)} {', '.join(kinds)}"

    def call(self, call: ReceiverCall, prefix: str, last: bool) -> Nested:
        branch = prefix + ("└─ " if last else "├─ ")
        inner = prefix + ("   " if last else "│  ")
        parts = [self.paint(_clean(call.receiver_name), _GREEN)]
        slow = _own_ns(call) >= self.recording.config.slow_receiver_ns
        duration = _duration(call.duration_ns)
        parts.append(self.paint(f"{duration} slow", _YELLOW) if slow else duration)
        if call.is_async:
            parts.append("[async]")
        if call.queries:
            queries = _plural(call.queries, "query", "queries")
            parts.append(f"{queries} ({_duration(call.query_ns)})")
        if call.on_commit:
            outcomes: dict[str, int] = {}
            for callback in call.commit_callbacks:
                outcomes[callback.outcome] = outcomes.get(callback.outcome, 0) + 1
            said = ", ".join(f"{count} {outcome}" for outcome, count in outcomes.items())
            callbacks = _plural(call.on_commit, "on_commit callback")
            parts.append(f"{callbacks} ({said})" if said else callbacks)
        if call.returned is not None:
            parts.append(f"returned {_clean(call.returned)}")
        if call.error is not None:
            verb = f"swallowed by {_method(call.send)}:" if call.swallowed else "raised"
            parts.append(self.paint(f"✗ {verb} {_clean(call.error)}", _RED))
        self.lines.append(self.paint(branch, _DIM) + "  ".join(parts))
        yield self.sends(call.sends, inner)

    # -- the rest -------------------------------------------------------------------------------

    def summary(self) -> str:
        recording = self.recording
        sends = _plural(recording.send_count, "send")
        calls = _plural(recording.call_count, "receiver call")
        spent = _duration(recording.total_receiver_ns)
        return self.paint(f"Signals: {sends}, {calls} ({spent} in receivers)", _BOLD)

    def truncation(self) -> str | None:
        recording = self.recording
        if not recording.truncated:
            return None
        return self.paint(
            f"… {_plural(recording.dropped_calls, 'receiver call')} and "
            f"{_plural(recording.dropped_sends, 'send')} were counted but not stored "
            f"(MAX_CALLS is {recording.config.max_calls})",
            _YELLOW,
        )

    def problems(self, problems: list[Problem]) -> list[str]:
        if not problems:
            return [self.paint("No problems found.", _DIM)]
        lines = [self.paint(f"Problems ({len(problems)}):", _BOLD)]
        for problem in problems:
            style = _RED if problem.kind in _SEVERE else _YELLOW
            kind = self.paint(_clean(problem.kind), style)
            lines.append(f"  {kind}: {_clean(problem.message)}")
            lines.extend(
                self.paint(f"      at {_clean(location)}", _DIM) for location in problem.locations
            )
        return lines


#: A run of more sibling sends than this that reached no receiver is folded into one line.
_FOLD_OVER = 3
#: Signal and sender pairs named on a folded line.
_FOLD_KINDS = 8
#: Longest keyword argument value shown on a send's line (the recording keeps longer ones).
_KWARG_LENGTH = 80


def _fold(sends: list[Send]) -> list[Send | list[Send]]:
    """Sibling sends in order, with each run of more than ``_FOLD_OVER`` sends that reached no
    receiver and repeat themselves (``pre_init``/``post_init`` for every row of a queryset)
    gathered into one list. One model save (four distinct sends) stays as it is."""
    items: list[Send | list[Send]] = []
    run: list[Send] = []
    for send in [*sends, None]:
        if send is not None and not send.calls:
            run.append(send)
            continue
        if sum(s.count for s in run) > _FOLD_OVER and len(
            {(s.signal, s.sender) for s in run}
        ) < sum(s.count for s in run):
            items.append(run)
        else:
            items.extend(run)
        run = []
        if send is not None:
            items.append(send)
    return items


def format_tree(
    recording: Recording, *, color: bool | None = None, max_lines: int | None = None
) -> str:
    """The recording's timeline as indented text, followed by its problems.

    Each send is one line (``signal(sender=..., kwarg=...)``, its duration and where it was made;
    Django's own signals by their last name, such as ``post_save``, others by their dotted path),
    with its receiver calls below it in the order they started, and under each call the sends it
    made. Calls show their duration (``slow`` when their own time reaches ``SLOW_RECEIVER_MS``),
    queries, ``on_commit`` callbacks and errors. A run of more than three consecutive sends that
    reached no receiver, where some signal and sender repeat, is folded into one line that counts
    them by signal and sender.

    ``color``: ANSI colours when True; when None, only if stdout is a terminal that supports them
    and the ``NO_COLOR`` environment variable is not set. ``max_lines`` cuts the timeline (not the
    problems) to that many lines. Does not raise on a recording that is still running.
    """
    if color is None:
        color = _wants_color()
    writer = _Writer(recording, color)
    drive(writer.roots(recording.roots))
    tree = writer.lines
    if max_lines is not None and len(tree) > max_lines:
        hidden = len(tree) - max_lines
        tree = [*tree[:max_lines], writer.paint(f"… {_plural(hidden, 'more line')}", _DIM)]
    lines = [writer.summary()]
    lines.extend(tree if tree else [writer.paint("No signals were sent.", _DIM)])
    truncation = writer.truncation()
    if truncation is not None:
        lines.append(truncation)
    lines.append("")
    lines.extend(writer.problems(recording.problems))
    return "\n".join(lines)


_recording.provide("format_tree", format_tree)
