"""The recording as text: ``Recording.format_tree()`` / ``signal_panel.text.format_tree``."""

from __future__ import annotations

import dataclasses
import io
import re
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from django.db.models.signals import post_save
from django.dispatch import Signal

from signal_panel import record_signals
from signal_panel.conf import Config, get_config
from signal_panel.text import format_tree
from tests.testapp.models import Author, Book

pytestmark = pytest.mark.django_db

ANSI = re.compile(r"\x1b\[[0-9;]*m")
placed = Signal()


def _config(**changes: Any) -> Config:
    # A threshold no call reaches, so that no test depends on how fast the machine is.
    changes.setdefault("slow_receiver_ns", 10**12)
    return dataclasses.replace(get_config(), **changes)


def add_book(sender: Any, instance: Author, created: bool, **kwargs: Any) -> None:
    if created:
        Book.objects.create(title="First", author=instance)


def reject(sender: Any, **kwargs: Any) -> None:
    raise ValueError("bad\nline \x1b[31mred")


async def on_placed_async(sender: Any, **kwargs: Any) -> None:
    return None


@pytest.fixture
def author_receiver() -> Iterator[None]:
    post_save.connect(add_book, sender=Author, weak=False, dispatch_uid="test_text.add_book")
    yield
    post_save.disconnect(sender=Author, dispatch_uid="test_text.add_book")


@pytest.fixture
def rejecting_receiver() -> Iterator[None]:
    placed.connect(reject, weak=False, dispatch_uid="test_text.reject")
    yield
    placed.disconnect(dispatch_uid="test_text.reject")


def _line(tree: str, start: str) -> str:
    matches = [line for line in tree.splitlines() if line.startswith(start)]
    assert matches, f"no line starts with {start!r} in:\n{tree}"
    return matches[0]


def test_a_send_is_a_line_with_its_signal_sender_and_arguments() -> None:
    with record_signals(_config()) as recording:
        author = Author.objects.create(name="Ann")

    line = _line(recording.format_tree(color=False), "post_save(")

    assert line.startswith(
        f"post_save(sender=testapp.Author, instance=<testapp.Author pk={author.pk}>, created=True"
    )


def test_a_send_line_ends_with_its_call_site() -> None:
    with record_signals(_config()) as recording:
        Author.objects.create(name="Ann")

    line = _line(recording.format_tree(color=False), "post_save(")

    assert re.search(
        r"at tests/test_text\.py:\d+ in test_a_send_line_ends_with_its_call_site$", line
    )


def test_receiver_calls_are_listed_under_their_send_with_a_duration(author_receiver: None) -> None:
    with record_signals(_config()) as recording:
        Author.objects.create(name="Ann")

    lines = recording.format_tree(color=False).splitlines()
    send = lines.index(_line("\n".join(lines), "post_save(sender=testapp.Author"))

    assert re.match(r"└─ tests\.test_text\.add_book  \d+\.\d\d ms\b", lines[send + 1])


def test_sends_made_inside_a_receiver_are_indented_under_it(author_receiver: None) -> None:
    with record_signals(_config()) as recording:
        Author.objects.create(name="Ann")

    tree = recording.format_tree(color=False)

    assert "\n   └─ post_save(sender=testapp.Book, instance=<testapp.Book pk=" in tree


def test_a_raised_error_is_shown_on_its_call(rejecting_receiver: None) -> None:
    with record_signals(_config()) as recording, pytest.raises(ValueError, match="bad"):
        placed.send(sender=None)

    line = _line(recording.format_tree(color=False), "└─ tests.test_text.reject")

    assert line.endswith("✗ raised ValueError: bad\\nline \\x1b[31mred")


def test_a_swallowed_error_names_the_method_that_swallowed_it(rejecting_receiver: None) -> None:
    with record_signals(_config()) as recording:
        placed.send_robust(sender=None)

    tree = recording.format_tree(color=False)

    assert _line(tree, "└─ tests.test_text.reject").endswith(
        "✗ swallowed by send_robust: ValueError: bad\\nline \\x1b[31mred"
    )
    assert "[send_robust]" in _line(tree, "tests.test_text.placed(")


def test_text_from_the_observed_program_cannot_break_lines_or_colour_the_terminal(
    rejecting_receiver: None,
) -> None:
    with record_signals(_config()) as recording:
        placed.send_robust(sender="line\nbreak\u202eevil", note="\x1b[2J")

    tree = recording.format_tree(color=False)

    assert "\x1b" not in tree
    assert "\u202e" not in tree
    assert "sender='line\\nbreak\\u202eevil', note='\\x1b[2J')" in tree


def test_problems_come_after_the_timeline(rejecting_receiver: None) -> None:
    with record_signals(_config()) as recording:
        placed.send_robust(sender=None)

    tree = recording.format_tree(color=False)
    tail = tree.split("\n\n", 1)[1].splitlines()

    assert tail[0] == "Problems (1):"
    assert tail[1].startswith("  swallowed_error: tests.test_text.placed.send_robust() swallowed")
    assert re.fullmatch(r"      at tests/test_text\.py:\d+", tail[2])


def test_a_recording_without_problems_says_so() -> None:
    with record_signals(_config()) as recording:
        Author.objects.create(name="Ann")

    assert recording.format_tree(color=False).endswith("\n\nNo problems found.")


def test_an_empty_recording_says_nothing_was_sent() -> None:
    with record_signals(_config()) as recording:
        pass

    assert recording.format_tree(color=False).splitlines()[:2] == [
        "Signals: 0 sends, 0 receiver calls (0.00 ms in receivers)",
        "No signals were sent.",
    ]


def test_the_first_line_counts_sends_and_calls(author_receiver: None) -> None:
    with record_signals(_config()) as recording:
        Author.objects.create(name="Ann")

    first = recording.format_tree(color=False).splitlines()[0]

    assert re.fullmatch(r"Signals: 8 sends, 1 receiver call \(\d+\.\d\d ms in receivers\)", first)


def test_a_long_run_of_sends_without_receivers_is_folded_into_one_line() -> None:
    Author.objects.bulk_create([Author(name="Ann"), Author(name="Bea"), Author(name="Cy")])
    with record_signals(_config()) as recording:
        list(Author.objects.all())

    lines = recording.format_tree(color=False).splitlines()

    assert lines[1] == (
        "6 sends without receivers: pre_init(sender=testapp.Author) ×3, "  # noqa: RUF001
        "post_init(sender=testapp.Author) ×3"  # noqa: RUF001
    )


def test_a_short_run_of_sends_without_receivers_is_shown_send_by_send() -> None:
    Author.objects.create(name="Ann")
    with record_signals(_config()) as recording:
        Author.objects.get()

    lines = recording.format_tree(color=False).splitlines()

    assert lines[1].startswith("pre_init(sender=testapp.Author, args=(")
    assert "  no receivers  at tests/test_text.py:" in lines[1]
    assert lines[2].startswith("post_init(sender=testapp.Author, instance=<testapp.Author pk=")


def test_signals_outside_django_keep_their_dotted_name() -> None:
    with record_signals(_config()) as recording:
        placed.send(sender=None, number=7)

    assert (
        recording.format_tree(color=False)
        .splitlines()[1]
        .startswith("tests.test_text.placed(sender=None, number=7)  no receivers")
    )


def test_long_argument_values_are_cut_on_the_line() -> None:
    with record_signals(_config()) as recording:
        placed.send(sender=None, text="x" * 200)

    line = recording.format_tree(color=False).splitlines()[1]

    assert f"text='{'x' * 78}…" in line
    assert "x" * 80 not in line


def test_async_sends_and_receivers_are_marked() -> None:
    placed.connect(on_placed_async, weak=False, dispatch_uid="test_text.async")
    try:
        with record_signals(_config()) as recording:
            placed.send(sender=None)
    finally:
        placed.disconnect(dispatch_uid="test_text.async")

    lines = recording.format_tree(color=False).splitlines()

    assert re.fullmatch(r"└─ tests\.test_text\.on_placed_async  \d+\.\d\d ms  \[async\]", lines[2])


async def test_asend_is_named_on_the_send_line() -> None:
    with record_signals(_config()) as recording:
        await placed.asend(sender=None)

    assert "  [asend]  " in recording.format_tree(color=False).splitlines()[1]


def test_calls_that_reach_the_slow_threshold_are_marked_slow(author_receiver: None) -> None:
    with record_signals(_config(slow_receiver_ns=0)) as recording:
        Author.objects.create(name="Ann")

    line = _line(recording.format_tree(color=False), "└─ tests.test_text.add_book")

    assert re.match(r"└─ tests\.test_text\.add_book  \d+\.\d\d ms slow\b", line)


def test_a_truncated_recording_says_how_much_was_not_stored(author_receiver: None) -> None:
    with record_signals(_config(max_calls=1)) as recording:
        Author.objects.create(name="Ann")
        Author.objects.create(name="Bea")

    tree = recording.format_tree(color=False)

    assert recording.dropped_calls == 1
    assert (
        f"… 1 receiver call and {recording.dropped_sends} sends were counted but not stored "
        "(MAX_CALLS is 1)"
    ) in tree


def test_max_lines_cuts_the_timeline_but_not_the_problems(rejecting_receiver: None) -> None:
    with record_signals(_config()) as recording:
        for _ in range(3):
            placed.send_robust(sender=None)

    lines = format_tree(recording, color=False, max_lines=2).splitlines()

    assert lines[1].startswith("tests.test_text.placed(sender=None)  ")
    assert lines[2].startswith("└─ tests.test_text.reject  ")
    assert lines[3] == "… 4 more lines"
    assert lines[-2].startswith("  swallowed_error: tests.test_text.placed.send_robust() swallowed")


def test_colour_is_off_when_asked() -> None:
    with record_signals(_config()) as recording:
        placed.send(sender=None)

    assert "\x1b[" not in recording.format_tree(color=False)


def test_colour_is_on_when_asked_and_only_adds_escape_codes() -> None:
    with record_signals(_config()) as recording:
        placed.send(sender=None)

    coloured = recording.format_tree(color=True)

    assert "\x1b[1m\x1b[36mtests.test_text.placed\x1b[0m(sender=None)" in coloured
    assert ANSI.sub("", coloured) == recording.format_tree(color=False)


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_colour_follows_stdout_being_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    with record_signals(_config()) as recording:
        placed.send(sender=None)

    monkeypatch.setattr(sys, "stdout", _Terminal())
    on_terminal = recording.format_tree()
    monkeypatch.setattr(sys, "stdout", io.StringIO())
    in_a_pipe = recording.format_tree()

    assert "\x1b[" in on_terminal
    assert "\x1b[" not in in_a_pipe


def test_no_color_turns_colour_off_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    with record_signals(_config()) as recording:
        placed.send(sender=None)

    monkeypatch.setattr(sys, "stdout", _Terminal())
    monkeypatch.setenv("NO_COLOR", "1")

    assert "\x1b[" not in recording.format_tree()


def test_a_running_recording_can_be_shown(rejecting_receiver: None) -> None:
    with record_signals(_config()) as recording:
        placed.send_robust(sender=None)
        tree = recording.format_tree(color=False)

    assert "Problems (1):" in tree
