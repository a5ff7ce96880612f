"""Turning a :class:`~signal_panel.recording.Recording` into the panel's stats: plain JSON data.

Everything the panel's template shows is computed here, after the request: grouping, naming,
formatting, CSS classes, flags such as ``is_slow``. The result holds only dicts, lists, str, int,
float, bool and None, because the toolbar keeps it in its store as JSON and may render the panel
from there later, in another process (the history panel, ``DatabaseStore``).

In two steps, so the response does not wait for what only the opened panel shows:
:func:`stored_stats` runs in ``generate_stats`` (the counts, the problems, what did not run, the
registry, and the recording frozen by :mod:`signal_panel.frozen`); :func:`expand` runs when the
panel's content is rendered (the timeline, the problem links, the by-receiver table).
:func:`panel_stats` does both.

Size: a recording holds up to ``MAX_CALLS`` (10,000 by default) receiver calls. Alike sends that
nothing happened in (``post_init`` for every row loaded, the same receivers running for each object
saved in a loop) fold into one row with a count, and the timeline stops after
:data:`TIMELINE_ROWS` rows, saying how much it left out; the problems and the by-receiver table
always cover every stored call.
"""

from __future__ import annotations

import importlib
import json
import sys
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from django.utils.translation import gettext, ngettext

from signal_panel import diagnostics, frozen, naming, registry
from signal_panel.frozen import FrozenCall, FrozenSend
from signal_panel.recording import Nested, ReceiverCall, Recording, Send, drive

__all__ = [
    "TIMELINE_ROWS",
    "empty_stats",
    "expand",
    "panel_stats",
    "registry_stats",
    "stored_stats",
    "template_context",
]

#: Most rows the timeline renders (sends, folded runs and receiver calls together).
TIMELINE_ROWS = 1000
#: Alike sends with no receivers fold into one row from this many on.
FOLD_QUIET_SENDS = 3
#: Alike sends whose receivers all returned (and sent nothing) fold from this many on.
FOLD_BUSY_SENDS = 10
#: Characters of a send's arguments shown on its line (the rest, and the call site, unfold).
SHORT_ARGUMENTS = 60
#: Consecutive calls of one library's receivers under a send folded into one row.
FOLD_LIBRARY_CALLS = 2
#: Places in the timeline listed per problem.
TARGETS_PER_PROBLEM = 5
#: Receiver names shown at each end of a long recursion chain.
CHAIN_ENDS = 4
#: Deepest indentation step the stylesheet has a class for (``spI0`` to ``spI24``).
MAX_INDENT = 24
# Numbers the timeline only displays are kept as text: the template renders text faster than it
# localises numbers, and the timeline has many rows.
_INDENTS = [str(step) for step in range(MAX_INDENT + 1)]


def _ms(ns: int) -> str:
    """Milliseconds for people: three decimals below 1 ms, where receivers usually are."""
    ms = ns / 1e6
    if ms < 1:
        return f"{ms:.3f}"
    if ms < 1000:
        return f"{ms:.2f}"
    return f"{ms:,.0f}"


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else f"{text[: limit - 1]}…"


def _short_signal(name: str, library: str) -> str:
    """``post_save`` for ``django.db.models.signals.post_save``; blinker names are kept whole."""
    if library == "django" and not name.startswith("<"):
        return name.rsplit(".", 1)[-1]
    return name


def _short_receiver(name: str) -> str:
    """``audit`` for ``myapp.receivers.audit``, ``partial(audit)`` for
    ``functools.partial(myapp.receivers.audit)``; other names that are not dotted paths stay
    whole."""
    if name.startswith("functools.partial(") and name.endswith(")"):
        return f"partial({_short_receiver(name[len('functools.partial(') : -1])})"
    if name.endswith((")", ">")) or "." not in name:
        return name
    return name.rsplit(".", 1)[-1]


def _detail_text(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(_detail_text(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_detail_text(v)}" for k, v in value.items())
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _detail(key: str, value: Any) -> dict[str, str]:
    """One line of a problem's details: ``max_ns`` of ``13288908`` reads ``max: 13.29 ms``."""
    if key.endswith("_ns") and isinstance(value, int) and not isinstance(value, bool):
        return {"name": key[:-3].replace("_", " "), "text": f"{_ms(value)} ms"}
    return {"name": key.replace("_", " "), "text": _detail_text(frozen.plain_data(value))}


def _row_class(base: str, parent: str, hidden: bool) -> str:
    """CSS classes of a timeline row: the toolbar's toggle pattern (``djToggleDetails_<parent>``
    with ``djSelected``/``djUnselected``) for rows under another row."""
    if not parent:
        return base
    return f"{base} djToggleDetails_{parent} {'djUnselected' if hidden else 'djSelected'}"


class _ReceiverGroup:
    """Totals for one logical receiver, for the by-receiver table."""

    __slots__ = (
        "calls",
        "errors",
        "library",
        "location",
        "max_ns",
        "name",
        "queries",
        "query_ns",
        "signals",
        "slow",
        "total_ns",
    )

    def __init__(self, name: str, location: str, library: str) -> None:
        self.name = name
        self.location = location
        self.library = library
        self.signals: dict[str, None] = {}
        self.calls = 0
        self.total_ns = 0
        self.max_ns = 0
        self.errors = 0
        self.queries = 0
        self.query_ns = 0
        self.slow = 0


#: What the builder reads a send and a call through: the views of a live recording, or a frozen
#: one's objects (the same attributes).
_Send = Send | FrozenSend
_Call = ReceiverCall | FrozenCall


def _view_package(call: ReceiverCall) -> str:
    return naming.library_package(call._info)


def _frozen_package(call: FrozenCall) -> str:
    return call.package or ""


class _Builder:
    """One pass over a recording, then the parts of the stats, sharing what the pass found.

    It reads either a live :class:`Recording` (:func:`stored_stats` of a large one) or what
    :func:`signal_panel.frozen.thaw` made of a frozen one (:func:`expand`): the same attributes
    either way. ``package_of`` tells a call's receiver's package ("" for the project's).
    """

    def __init__(
        self,
        sends: list[Any],
        problems: list[Any],
        duration_ns: int,
        *,
        fold_library_receivers: bool,
        package_of: Callable[[Any], str],
    ) -> None:
        self.fold_library_receivers = fold_library_receivers
        self.package_of = package_of
        self.sends = sends
        self.index = {id(send): i for i, send in enumerate(sends)}
        self.total_ns = max(duration_ns, 1)
        if not duration_ns:  # still recording, or never started
            self.total_ns = max([self.total_ns, *(s.start_ns + s.duration_ns for s in sends)])

        self.problems = problems
        problem_sends: set[int] = set()
        problem_calls: set[int] = set()
        slow_calls: set[int] = set()
        for problem in self.problems:
            problem_sends.update(id(send) for send in problem.sends)
            problem_calls.update(id(call) for call in problem.calls)
            if problem.kind == "slow_receiver":
                slow_calls.update(id(call) for call in problem.calls)
        self.problem_sends = problem_sends
        self.problem_calls = problem_calls
        self.slow_calls = slow_calls

        # The one pass: names, whether each send can fold (and with what), receiver totals.
        # It runs over up to MAX_CALLS receiver calls, hence the local names.
        names: dict[int, tuple[str, str]] = {}
        self.names: list[tuple[str, str]] = []
        # Per send: a number shared by the sends that may fold together, or -1 if it cannot fold.
        self.fold_keys: list[int] = []
        fold_ids: dict[tuple[Any, ...], int] = {}
        self.groups: dict[Any, _ReceiverGroup] = {}
        groups = self.groups
        add_name, add_fold_key = self.names.append, self.fold_keys.append
        self.stored_calls = 0
        for send in sends:
            signal_key = id(send.signal)
            name = names.get(signal_key)
            if name is None:
                full = send.signal_name
                name = names[signal_key] = (full, _short_signal(full, send.library))
            add_name(name)
            quiet = id(send) not in problem_sends
            calls = send.calls
            keys = []
            if calls:
                self.stored_calls += len(calls)
                short = name[1]
                for call in calls:
                    call_key = id(call)
                    logical_key = call.logical_key
                    keys.append(logical_key)
                    error = call.error
                    if quiet and (error is not None or call_key in problem_calls or call.sends):
                        quiet = False
                    group = groups.get(logical_key)
                    if group is None:
                        group = groups[logical_key] = _ReceiverGroup(
                            call.receiver_name, call.location, send.library
                        )
                    group.signals[short] = None
                    group.calls += 1
                    duration = call.duration_ns
                    group.total_ns += duration
                    if duration > group.max_ns:
                        group.max_ns = duration
                    if error is not None:
                        group.errors += 1
                    queries = call.queries
                    if queries:
                        group.queries += queries
                        group.query_ns += call.query_ns
                    if call_key in slow_calls:
                        group.slow += 1
            if quiet:
                key = (signal_key, send.sender, send.library, send.robust, send.is_async, *keys)
                add_fold_key(fold_ids.setdefault(key, len(fold_ids)))
            else:
                add_fold_key(-1)

        #: DOM ids of the rows the timeline renders, to link problems to them.
        self.rendered: set[str] = set()
        self.rows: list[dict[str, Any]] = []
        self.shown_sends = 0
        self.shown_calls = 0
        # receiver's logical key -> its library's package, or "" for the project's
        self.packages: dict[Any, str] = {}

    def call_position(self, call: _Call) -> int:
        return next(i for i, each in enumerate(call.send.calls) if each is call)

    def call_id(self, call: _Call) -> str:
        return f"c{self.index[id(call.send)]}_{self.call_position(call)}"

    def _bar(self, start_ns: int, duration_ns: int) -> tuple[str, str]:
        """Where a bar starts and how wide it is, in % of the recording (at least visible)."""
        total = self.total_ns
        x = min(max(start_ns * 100 / total, 0.0), 99.5)
        width = min(max(duration_ns * 100 / total, 0.5), 100.0 - x)
        return f"{x:.2f}", f"{width:.2f}"

    # -- problems --------------------------------------------------------------------------------

    def problem_rows(self) -> list[dict[str, Any]]:
        """Needs :meth:`timeline` first, to know which places the timeline shows."""
        rows = []
        for number, problem in enumerate(self.problems):
            targets = self._targets(problem)
            rows.append(
                {
                    "number": number,
                    "kind": problem.kind,
                    "message": problem.message,
                    "locations": [str(location) for location in problem.locations],
                    "details": [_detail(str(k), v) for k, v in problem.details.items()],
                    "chain": self._chain(problem) if problem.kind == "recursion" else [],
                    "targets": targets[:TARGETS_PER_PROBLEM],
                    "more_targets": max(len(targets) - TARGETS_PER_PROBLEM, 0),
                }
            )
        return rows

    def _targets(self, problem: Any) -> list[dict[str, Any]]:
        targets: list[dict[str, Any]] = []
        seen: set[str] = set()
        for call in problem.calls:
            send_index = self.index.get(id(call.send))
            if send_index is None:
                continue
            row = self.call_id(call)
            if row not in seen:
                seen.add(row)
                signal = self.names[send_index][1]
                position = self.call_position(call) + 1
                label = f"{signal} #{send_index + 1}.{position} → "
                label += _short_receiver(call.receiver_name)
                targets.append({"row": row, "label": label, "shown": row in self.rendered})
        if targets:
            return targets
        for send in problem.sends:
            send_index = self.index.get(id(send))
            if send_index is None:
                continue
            row = f"s{send_index}"
            if row not in seen:
                seen.add(row)
                label = f"{self.names[send_index][1]} #{send_index + 1}"
                targets.append({"row": row, "label": label, "shown": row in self.rendered})
        return targets

    def _chain(self, problem: Any) -> list[str]:
        """Receivers from the outermost call of a recursion down to its deepest re-entry."""
        if not problem.calls:
            return []
        root = problem.calls[0]
        deepest = max(problem.calls, key=lambda call: call.send.depth)
        chain: list[str] = []
        call: _Call | None = deepest
        while call is not None:
            send_index = self.index.get(id(call.send))
            signal = self.names[send_index][1] if send_index is not None else "?"
            chain.append(f"{call.receiver_name} ({signal})")
            if call is root:
                break
            call = call.send.parent
        chain.reverse()
        if len(chain) > 2 * CHAIN_ENDS + 1:
            hidden = len(chain) - 2 * CHAIN_ENDS
            chain = [*chain[:CHAIN_ENDS], f"… {hidden} more …", *chain[-CHAIN_ENDS:]]
        return chain

    # -- timeline --------------------------------------------------------------------------------

    def timeline(self) -> tuple[list[dict[str, Any]], dict[str, int]]:
        """Rows in display order (depth first), and how many sends and calls were left out."""
        index = self.index
        roots = [s for s in self.sends if s.parent is None or id(s.parent.send) not in index]
        drive(self._emit(roots, "", 0, False))
        left = {
            "sends": sum(send.count for send in self.sends) - self.shown_sends,
            "calls": self.stored_calls - self.shown_calls,
        }
        return self.rows, left

    def _full(self) -> bool:
        return len(self.rows) >= TIMELINE_ROWS

    # _emit and _send_rows yield the walkers of nested sends instead of calling them
    # (recording.drive): a timeline of any depth is built without recursion.

    def _emit(self, siblings: list[_Send], parent: str, depth: int, hidden: bool) -> Nested:
        for item in self._fold(siblings):
            if self._full():
                return
            if isinstance(item, list):
                self._run_rows(item, parent, depth, hidden)
            elif item.count > 1:  # a folded run of sends that reached no receiver
                self._run_rows([item], parent, depth, hidden)
            else:
                yield self._send_rows(item, parent, depth, hidden)

    def _fold(self, siblings: list[_Send]) -> Iterator[_Send | list[_Send]]:
        """The siblings in order, with alike quiet sends of each quiet stretch gathered into lists.

        A stretch is a run of consecutive quiet sends (receivers that returned, sent nothing and
        have no problem); within it, sends with the same signal, sender and receivers that occur
        often enough become one list, placed where the first of them was. Lazy, so a timeline
        that is full stops here too.
        """
        index, fold_keys = self.index, self.fold_keys
        stretch: list[tuple[_Send, int]] = []
        for send in siblings:
            key = fold_keys[index[id(send)]]
            if key >= 0:
                stretch.append((send, key))
                continue
            if stretch:
                yield from self._fold_stretch(stretch)
                stretch = []
            yield send
        if stretch:
            yield from self._fold_stretch(stretch)

    @staticmethod
    def _fold_stretch(stretch: list[tuple[_Send, int]]) -> Iterator[_Send | list[_Send]]:
        counts = Counter(key for _send, key in stretch)
        folded: dict[int, list[_Send]] = {}
        for send, key in stretch:
            if counts[key] >= (FOLD_BUSY_SENDS if send.calls else FOLD_QUIET_SENDS):
                folded.setdefault(key, []).append(send)
        placed: set[int] = set()
        for send, key in stretch:
            group = folded.get(key)
            if group is None:
                yield send
            elif key not in placed:
                placed.add(key)
                yield group

    def _send_rows(self, send: _Send, parent: str, depth: int, hidden: bool) -> Nested:
        rows = self.rows
        number = self.index[id(send)]
        row_id = f"s{number}"
        full, short = self.names[number]
        calls = send.calls
        x, width = self._bar(send.start_ns, send.duration_ns)
        arguments = ", ".join(f"{key}={value}" for key, value in send.kwargs.items())
        in_atomic = send.in_atomic
        rows.append(
            {
                "type": "send",
                "id": row_id,
                "css": _row_class(
                    ("spSend spFlagged" if id(send) in self.problem_sends else "spSend")
                    + ("" if calls else " spQuiet"),
                    parent,
                    hidden,
                ),
                # A send shows its receiver calls whenever it is shown.
                "toggle": "-" if calls else "",
                "indent": _INDENTS[min(2 * depth, MAX_INDENT)],
                "number": str(number + 1),
                "signal": short,
                "signal_name": full,
                "library": send.library,
                "mode": "async" if send.is_async else "sync",
                "robust": send.robust,
                "in_atomic": in_atomic is True,
                "sender": send.sender,
                "kwargs": arguments,
                "args_short": _shorten(arguments, SHORT_ARGUMENTS),
                "callsite": send.callsite,
                "time": _ms(send.duration_ns),
                "bar_x": x,
                "bar_w": width,
                "receivers": len(calls),
                "count": send.count,
            }
        )
        self.rendered.add(row_id)
        self.shown_sends += 1
        for position, members, package in self._call_groups(calls):
            if self._full():
                return
            if package is None:
                yield from self._call_row(members[0], number, position, row_id, depth, hidden)
                continue
            # A library's calls, folded under one row.
            package_id = f"p{number}_{position}"
            self._package_row(package_id, package, members, row_id, depth, hidden)
            for offset, call in enumerate(members):
                if self._full():
                    return
                yield from self._call_row(call, number, position + offset, package_id, depth, True)

    def _call_groups(
        self, calls: Sequence[_Call]
    ) -> Iterator[tuple[int, Sequence[_Call], str | None]]:
        """``(position, [call], None)`` for each call shown on its own, and ``(position, calls,
        package)`` for each run of at least :data:`FOLD_LIBRARY_CALLS` consecutive calls of one
        library's receivers (``FOLD_LIBRARY_RECEIVERS``), none of them about a problem."""
        if not self.fold_library_receivers or len(calls) < FOLD_LIBRARY_CALLS:
            for position, call in enumerate(calls):
                yield position, [call], None
            return
        packages = [self._library_package(call) for call in calls]
        position = 0
        while position < len(calls):
            package = packages[position]
            end = position + 1
            if package is not None:
                while end < len(calls) and packages[end] == package:
                    end += 1
            if package is not None and end - position >= FOLD_LIBRARY_CALLS:
                yield position, calls[position:end], package
            else:
                for at in range(position, end):
                    yield at, [calls[at]], None
            position = end

    def _library_package(self, call: _Call) -> str | None:
        """The package of a library's receiver (not the project's, and no problem is about the
        call), else None."""
        if id(call) in self.problem_calls:
            return None
        key = call.logical_key
        package = self.packages.get(key)
        if package is None:
            package = self.packages[key] = self.package_of(call)
        return package or None

    def _package_row(
        self,
        row_id: str,
        package: str,
        calls: Sequence[_Call],
        parent: str,
        depth: int,
        hidden: bool,
    ) -> None:
        start = min(call.start_ns for call in calls)
        end = max(call.start_ns + call.duration_ns for call in calls)
        x, width = self._bar(start, end - start)
        self.rows.append(
            {
                "type": "package",
                "id": row_id,
                "css": _row_class("spCall spPackage", parent, hidden),
                "toggle": "+",
                "indent": _INDENTS[min(2 * depth + 1, MAX_INDENT)],
                "package": package,
                "count": len(calls),
                "names": ", ".join(
                    dict.fromkeys(_short_receiver(call.receiver_name) for call in calls)
                ),
                "queries": sum(call.queries for call in calls),
                "time": _ms(sum(call.duration_ns for call in calls)),
                "bar_x": x,
                "bar_w": width,
            }
        )
        self.rendered.add(row_id)

    def _call_row(
        self, call: _Call, number: int, position: int, parent: str, depth: int, hidden: bool
    ) -> Nested:
        index = self.index
        self.shown_calls += 1
        call_id = f"c{number}_{position}"
        nested = [s for s in call.sends if id(s) in index]
        x, width = self._bar(call.start_ns, call.duration_ns)
        call_key = id(call)
        error = call.error
        slow = call_key in self.slow_calls
        queries = call.queries
        css = _row_class("spCall", parent, hidden)
        if call_key in self.problem_calls:
            css += " spFlagged"
        if slow or error is not None:
            css += " djDebugRowWarning"
        self.rows.append(
            {
                "type": "call",
                "id": call_id,
                "css": css,
                # The sends a receiver made start folded under its call.
                "toggle": "+" if nested else "",
                "indent": _INDENTS[min(2 * depth + 1, MAX_INDENT)],
                "receiver": call.receiver_name,
                "location": call.location,
                "is_async": call.is_async,
                "time": _ms(call.duration_ns),
                "bar_x": x,
                "bar_w": width,
                "is_slow": slow,
                "error": error or "",
                "swallowed": call.swallowed if error is not None else False,
                "queries": queries,
                "query_time": _ms(call.query_ns) if queries else "",
                "on_commit": call.on_commit,
                "callbacks": _callbacks(call),
                "returned": call.returned,
                "nested": len(nested),
            }
        )
        self.rendered.add(call_id)
        if nested:
            yield self._emit(nested, call_id, depth + 1, True)

    def _run_rows(self, sends: list[_Send], parent: str, depth: int, hidden: bool) -> None:
        first = sends[0]
        number = self.index[id(first)]
        row_id = f"r{number}"
        full, short = self.names[number]
        end = max(s.start_ns + s.duration_ns for s in sends)
        x, width = self._bar(first.start_ns, end - first.start_ns)
        call_count = sum(len(s.calls) for s in sends)
        kwargs = first.kwargs
        self.rows.append(
            {
                "type": "run",
                "id": row_id,
                "css": _row_class(
                    "spSend spRun" if call_count else "spSend spRun spQuiet", parent, hidden
                ),
                "toggle": "+" if first.calls else "",
                "indent": _INDENTS[min(2 * depth, MAX_INDENT)],
                "number": str(number + 1),
                # A folded run stored as one Send has no range of numbers of its own.
                "last_number": self.index[id(sends[-1])] + 1 if len(sends) > 1 else None,
                "count": str(sum(s.count for s in sends)),
                "signal": short,
                "signal_name": full,
                "library": first.library,
                "mode": "async" if first.is_async else "sync",
                "robust": first.robust,
                "sender": first.sender,
                "kwargs": ", ".join(f"{key}={value}" for key, value in kwargs.items()),
                "callsite": first.callsite,
                "time": _ms(sum(s.duration_ns for s in sends)),
                "bar_x": x,
                "bar_w": width,
                "receivers": call_count,
            }
        )
        css = _row_class("spCall", row_id, True)
        first_calls: Sequence[_Call] = first.calls
        for position, call in enumerate(first_calls):
            total = longest = queries = on_commit = 0
            for send in sends:
                each = send.calls[position]
                duration = each.duration_ns
                total += duration
                longest = max(longest, duration)
                queries += each.queries
                on_commit += each.on_commit
            self.rows.append(
                {
                    "type": "runcall",
                    "id": f"{row_id}_{position}",
                    "css": css,
                    "indent": _INDENTS[min(2 * depth + 1, MAX_INDENT)],
                    "receiver": call.receiver_name,
                    "location": call.location,
                    "is_async": call.is_async,
                    "count": str(len(sends)),
                    "time": _ms(total),
                    "max_time": _ms(longest),
                    "queries": queries,
                    "on_commit": on_commit,
                }
            )
        self.rendered.add(row_id)
        self.shown_sends += sum(send.count for send in sends)
        self.shown_calls += call_count

    # -- by receiver -----------------------------------------------------------------------------

    def receivers(self) -> list[dict[str, Any]]:
        rows = []
        for group in sorted(self.groups.values(), key=lambda g: -g.total_ns):
            total, count = group.total_ns, group.calls
            rows.append(
                {
                    "receiver": group.name,
                    "location": group.location,
                    "library": group.library,
                    "signals": ", ".join(group.signals),
                    "calls": count,
                    "total_time": _ms(total),
                    "total_ms": round(total / 1e6, 6),
                    "mean_time": _ms(total // count),
                    "mean_ms": round(total / count / 1e6, 6),
                    "max_time": _ms(group.max_ns),
                    "max_ms": round(group.max_ns / 1e6, 6),
                    "errors": group.errors,
                    "queries": group.queries,
                    "query_time": _ms(group.query_ns),
                    "is_slow": group.slow > 0,
                }
            )
        return rows


def _callbacks(call: _Call) -> list[dict[str, Any]]:
    """The ``on_commit`` callbacks of a call, each with what became of it."""
    return [
        {
            "name": _short_receiver(callback.name),
            "full_name": callback.name,
            "outcome": callback.outcome,
            "immediate": callback.immediate,
            "time": _ms(callback.duration_ns) if callback.outcome == "ran" else "",
            "error": callback.error or "",
        }
        for callback in call.commit_callbacks
    ]


#: Most receivers listed in the panel's *Why not run?* section.
MISSED_ROWS = 200


def missed_rows(recording: Recording) -> list[dict[str, Any]]:
    """The receivers that did not run (``signal_panel.missed``), the likely ones first."""
    from signal_panel.missed import misses

    found = sorted(misses(recording), key=lambda miss: not miss.listed)
    return [
        {
            "receiver": miss.receiver,
            "signal": _short_signal(miss.signal, "django"),
            "signal_name": miss.signal,
            "sender": miss.sender,
            "reason": miss.reason,
            "why": miss.why,
            "connected_at": miss.connected_at or "",
            "listed": miss.listed,
        }
        for miss in found[:MISSED_ROWS]
    ]


# -- registry ------------------------------------------------------------------------------------


def _blinker_importable() -> bool:
    try:
        importlib.import_module("blinker")
    except ImportError:
        return False
    return True


def _sender_label(entry: dict[str, Any]) -> str:
    """The label of the sender a receiver is limited to, when the library tells it."""
    for key in ("sender", "sender_filter"):
        value = entry.get(key)
        if isinstance(value, str):
            return value
    return ""


def _registry_receiver(
    entry: dict[str, Any], vanishing: set[tuple[str, str | None]]
) -> dict[str, Any]:
    uid = entry.get("dispatch_uid")
    name = str(entry.get("receiver", "?"))
    connected_at = entry.get("connected_at")
    return {
        "receiver": name,
        "definition": str(entry.get("definition") or "?"),
        "connected_at": str(connected_at or ""),
        "dispatch_uid": None if uid is None else str(uid),
        "sender": _sender_label(entry),
        "sender_limited": bool(entry.get("sender_filter")),
        "weak": bool(entry.get("weak", False)),
        "is_async": bool(entry.get("is_async", False)),
        "dead": bool(entry.get("dead", False)),
        # Shown as "gone in production". Checked on the receiver itself, as the
        # vanishing_receiver problem does, rather than guessed from how it was defined.
        "local_weak": (name, connected_at) in vanishing,
    }


#: ``(what it was built from, the stats)``: the registry is rebuilt when connections change (or
#: modules were imported), not per request. Unless the observer's receivers are listed, their
#: connections count only by how many are connected: django-debug-toolbar's panels connect and
#: disconnect theirs on every request, which would otherwise rebuild it on every request.
_registry_cache: list[Any] = [None, None]

#: Signals of the framework and the observer, listed after the project's and folded.
_FRAMEWORK_PREFIXES = ("django.", "debug_toolbar.", "signal_panel.", "blinker.")


def _observer(name: str) -> bool:
    return name.split(".", 1)[0] in naming.OBSERVER_PACKAGES


def _registry_key(show_observer: bool) -> tuple[Any, ...]:
    """What the registry listing is built from: the connections, the modules imported, and
    whether the observer's receivers are listed (their own connections count only then)."""
    changes = registry.generation() if show_observer else registry.project_generation()
    return (changes, len(sys.modules), show_observer)


def registry_stats(*, show_observer: bool = False) -> dict[str, Any]:
    """Every signal the process knows, with the receivers connected to it now: the project's
    signals first, then Django's and the libraries' (``framework``). django-debug-toolbar's and
    this package's own receivers are counted, not listed, unless ``show_observer``."""
    key = _registry_key(show_observer)
    if _registry_cache[0] != key:
        _registry_cache[:] = [key, _build_registry(show_observer)]
    stats: dict[str, Any] = _registry_cache[1]
    return {**stats, "blinker_absent": not _blinker_importable()}


#: ``(what it was built from, the registry as JSON text)`` (see :func:`registry_text`).
_registry_text_cache: list[Any] = [None, ""]


def registry_text(*, show_observer: bool = False) -> str:
    """:func:`registry_stats` as JSON text, made again only when the registry changes: the stats
    store it as it is, so a request costs the store one string, not a thousand values to encode;
    :func:`expand` reads it back."""
    key = (*_registry_key(show_observer), _blinker_importable())
    if _registry_text_cache[0] != key:
        listing = registry_stats(show_observer=show_observer)
        _registry_text_cache[:] = [key, json.dumps(listing, separators=(",", ":"))]
    text: str = _registry_text_cache[1]
    return text


def _build_registry(show_observer: bool) -> dict[str, Any]:
    libraries = registry.libraries()
    hidden = 0
    connected: list[dict[str, Any]] = []
    idle: list[str] = []
    for name, signal in registry.known_signals():
        library = next((lib for lib in libraries if isinstance(signal, lib.signal_types)), None)
        if library is None:
            continue
        try:
            entries = library.list_receivers(signal)
        except Exception:
            entries = []
        if not show_observer:
            kept = [entry for entry in entries if not _observer(str(entry.get("receiver", "")))]
            hidden += len(entries) - len(kept)
            entries = kept
        if not entries:
            idle.append(name)
            continue
        vanishing = diagnostics.vanishing_in_production(signal)
        receivers = [_registry_receiver(entry, vanishing) for entry in entries]
        connected.append(
            {
                "name": name,
                "library": library.name,
                "framework": name.startswith(_FRAMEWORK_PREFIXES),
                "receivers": receivers,
                "dead": sum(r["dead"] for r in receivers),
            }
        )
    connected.sort(key=lambda signal: (signal["framework"], signal["name"]))
    from signal_panel.missed import unimported_receiver_modules

    unimported = [
        {
            "module": module.module,
            "path": module.path,
            "receivers": ", ".join(name for name, _signal in module.receivers),
        }
        for module in unimported_receiver_modules()
    ]
    return {
        "unimported": unimported,
        "signals": connected,
        "idle": idle,
        "signal_count": len(connected) + len(idle),
        "receiver_count": sum(len(s["receivers"]) for s in connected),
        "hidden_receivers": hidden,
    }


# -- the stats ----------------------------------------------------------------------------------


#: Largest recording (stored sends and receiver calls together) that ``generate_stats`` stores
#: frozen, leaving the timeline to be built when the panel is opened. A larger one's timeline is
#: built right away, from the recording, and stored instead: it stops at TIMELINE_ROWS rows, so
#: the store keeps less than the frozen rows would take.
FREEZE_ROWS = 2000


def stored_stats(recording: Recording, *, registry_listing: bool | None = None) -> dict[str, Any]:
    """What ``generate_stats`` stores for the finished ``recording``: the counts the toolbar shows
    with the response (the sidebar's subtitle, the ``Server-Timing`` header), the problems, the
    receivers that did not run and the registry (as JSON text, :func:`registry_text`), which
    describe this moment of the process, and
    the recording itself, frozen (:mod:`signal_panel.frozen`), which :func:`expand` turns into
    the timeline, the problem links and the by-receiver table. A recording of more than
    :data:`FREEZE_ROWS` rows is stored expanded.

    ``registry_listing`` overrides the ``SHOW_REGISTRY`` setting.
    """
    config = recording.config
    problems = recording.problems
    receiver_ns = recording.total_receiver_ns
    show_registry = config.show_registry if registry_listing is None else registry_listing
    missed = missed_rows(recording)
    stats: dict[str, Any] = {
        "send_count": recording.send_count,
        "quiet_sends": recording.quiet_sends,
        "observer_calls": recording.observer_calls,
        "ignored_calls": recording.ignored_calls,
        "call_count": recording.call_count,
        "receiver_ms": round(receiver_ns / 1e6, 3),
        "receiver_time": _ms(receiver_ns),
        "duration_time": _ms(recording.duration_ns),
        "problem_count": len(problems),
        "truncated": recording.truncated,
        "dropped_calls": recording.dropped_calls,
        "dropped_sends": recording.dropped_sends,
        "max_calls": config.max_calls,
        "missed": missed,
        "missed_listed": sum(1 for miss in missed if miss["listed"]),
        "registry": registry_text(show_observer=config.show_observer) if show_registry else None,
    }
    if len(recording.send_rows) + len(recording.call_rows) <= FREEZE_ROWS:
        stats["recording"] = frozen.freeze(recording, problems)
    else:
        builder = _Builder(
            recording.sends,
            problems,
            0 if recording.active else recording.duration_ns,
            fold_library_receivers=config.fold_library_receivers,
            package_of=_view_package,
        )
        stats.update(_built(builder))
    return stats


def _built(builder: _Builder) -> dict[str, Any]:
    timeline, left = builder.timeline()
    return {
        "problems": builder.problem_rows(),
        "timeline": timeline,
        # Rows of sends that reached no receiver: hidden until the panel's checkbox shows them.
        "quiet_rows": sum(1 for row in timeline if "spQuiet" in row["css"]),
        "timeline_left": left,
        "timeline_limit": TIMELINE_ROWS,
        "receivers": builder.receivers(),
    }


def expand(stats: dict[str, Any]) -> dict[str, Any]:
    """The panel's stats from what :func:`stored_stats` stored (after a trip through the toolbar's
    store too): a frozen recording becomes the timeline, the problems with links into it, and
    the by-receiver table. Stats stored expanded are returned as they are."""
    listing = stats.get("registry")
    if isinstance(listing, str):
        stats = {**stats, "registry": json.loads(listing)}
    data = stats.get("recording")
    if data is None:
        return stats
    expanded = {key: value for key, value in stats.items() if key != "recording"}
    try:
        thawed = frozen.thaw(data)
    except frozen.UnreadableRecording:
        # Stored by another version of the package (DatabaseStore keeps requests across
        # upgrades): the counts are still its own; the panel says why the rest is missing.
        empty = _Builder([], [], 0, fold_library_receivers=False, package_of=_frozen_package)
        expanded.update(_built(empty), unreadable=True)
        return expanded
    builder = _Builder(
        thawed.sends,
        thawed.problems,
        thawed.duration_ns,
        fold_library_receivers=thawed.fold_library_receivers,
        package_of=_frozen_package,
    )
    expanded.update(_built(builder))
    return expanded


def panel_stats(recording: Recording, *, registry_listing: bool | None = None) -> dict[str, Any]:
    """The panel's stats for ``recording``, all of them: plain data (see the module's docstring).

    ``registry_listing`` overrides the ``SHOW_REGISTRY`` setting.
    """
    return expand(stored_stats(recording, registry_listing=registry_listing))


def template_context(stats: dict[str, Any]) -> dict[str, Any]:
    """The template's context for ``stats``: the stats, plus the words that depend on the
    language the panel is rendered in (counts need ``ngettext``; doing it here rather than with
    ``{% blocktranslate %}`` in every row keeps a long timeline quick to render)."""
    stats = expand(stats)
    no_receivers = gettext("no receivers")
    left_out = []
    observer = stats.get("observer_calls") or 0
    if observer:
        left_out.append(
            ngettext(
                "%(count)d call of django-debug-toolbar's and this panel's own receivers is "
                "left out (SHOW_TOOLBAR_ACTIVITY).",
                "%(count)d calls of django-debug-toolbar's and this panel's own receivers are "
                "left out (SHOW_TOOLBAR_ACTIVITY).",
                observer,
            )
            % {"count": observer}
        )
    ignored = stats.get("ignored_calls") or 0
    if ignored:
        left_out.append(
            ngettext(
                "%(count)d call of receivers in IGNORE_RECEIVERS is left out.",
                "%(count)d calls of receivers in IGNORE_RECEIVERS are left out.",
                ignored,
            )
            % {"count": ignored}
        )
    stats["left_out"] = " ".join(left_out)
    for row in stats.get("timeline", ()):
        count = row.get("receivers")
        if count is None:
            continue
        if not count:
            row["outcome"] = no_receivers
        elif row["type"] == "run":
            row["outcome"] = ngettext(
                "%(count)d receiver call", "%(count)d receiver calls", count
            ) % {"count": count}
        else:
            row["outcome"] = ngettext("%(count)d receiver", "%(count)d receivers", count) % {
                "count": count
            }
    return stats


def empty_stats() -> dict[str, Any]:
    """Stats for a request the panel did not record (its instrumentation was never enabled)."""
    from signal_panel.recording import Recording

    return stored_stats(Recording(), registry_listing=False)
