"""Signal assertions for tests: ``signal_panel.testing``."""

from __future__ import annotations

import dataclasses
import gc
import unittest
import weakref
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.db.models.signals import class_prepared, post_save, pre_delete, pre_init, pre_save
from django.dispatch import Signal
from django.test import TestCase

from signal_panel import Recording, record_signals
from signal_panel.conf import Config, get_config
from signal_panel.testing import (
    ANY,
    KeptValue,
    ReceiverNotConnectedError,
    SignalAssertionError,
    SignalAssertionsMixin,
    SignalRecording,
    assert_no_problems,
    assert_not_received,
    assert_not_sent,
    assert_order,
    assert_received,
    assert_sent,
    mute_receivers,
)
from tests.testapp.models import Author, Book, Tag

pytestmark = pytest.mark.django_db

placed = Signal()


def _config(**changes: Any) -> Config:
    # A threshold no call reaches: whether a test passes must not depend on the machine's speed.
    changes.setdefault("slow_receiver_ns", 10**12)
    return dataclasses.replace(get_config(), **changes)


def add_book(sender: Any, instance: Author, created: bool, **kwargs: Any) -> None:
    if created:
        Book.objects.create(title="First", author=instance)


def reject(sender: Any, **kwargs: Any) -> None:
    raise ValueError("rejected")


class Auditor:
    def __init__(self) -> None:
        self.seen: list[Any] = []

    def on_placed(self, sender: Any, **kwargs: Any) -> None:
        self.seen.append(sender)


@pytest.fixture
def author_receiver() -> Iterator[None]:
    post_save.connect(add_book, sender=Author, weak=False, dispatch_uid="test_testing.add_book")
    yield
    post_save.disconnect(sender=Author, dispatch_uid="test_testing.add_book")


@pytest.fixture
def rejecting_receiver() -> Iterator[None]:
    placed.connect(reject, weak=False, dispatch_uid="test_testing.reject")
    yield
    placed.disconnect(dispatch_uid="test_testing.reject")


@pytest.fixture
def saved_author(author_receiver: None) -> Recording:
    with record_signals(_config()) as recording:
        Author.objects.create(name="Ann")
    return recording


def _message(check: Any, *args: Any, **kwargs: Any) -> str:
    with pytest.raises(SignalAssertionError) as caught:
        check(*args, **kwargs)
    return str(caught.value)


# -- assert_sent --------------------------------------------------------------------------------


def test_assert_sent_passes_when_the_model_class_sent_the_signal(saved_author: Recording) -> None:
    assert_sent(saved_author, post_save, sender=Author)


def test_assert_sent_counts_sends_made_inside_receivers(saved_author: Recording) -> None:
    assert_sent(saved_author, post_save, times=2)


def test_assert_sent_accepts_the_signal_by_its_dotted_name(saved_author: Recording) -> None:
    assert_sent(saved_author, "django.db.models.signals.post_save", sender=Book, times=1)


def test_assert_sent_fails_when_the_signal_was_not_sent(saved_author: Recording) -> None:
    message = _message(assert_sent, saved_author, pre_delete)

    assert message.splitlines()[0] == (
        "Expected django.db.models.signals.pre_delete to be sent; it was not sent."
    )


def test_assert_sent_fails_on_a_wrong_count_and_shows_the_tree(saved_author: Recording) -> None:
    message = _message(assert_sent, saved_author, post_save, sender=Author, times=2)
    lines = message.splitlines()

    assert lines[0] == (
        "Expected django.db.models.signals.post_save with sender=testapp.Author to be sent "
        "2 times; it was sent 1 time."
    )
    assert lines[1] == "It was sent with other senders: testapp.Book (1)."
    assert lines[2:4] == ["", "What was recorded:"]
    assert lines[4].startswith("Signals: 8 sends, 1 receiver call (")
    assert any(line.startswith("post_save(sender=testapp.Author, instance=") for line in lines)
    assert any(line.startswith("└─ tests.test_testing.add_book  ") for line in lines)
    assert lines[-1] == "No problems found."


def test_assert_sent_with_times_zero_passes_when_not_sent(saved_author: Recording) -> None:
    assert_sent(saved_author, pre_delete, times=0)


def test_assert_sent_matches_a_plain_object_sender_by_its_summary() -> None:
    with record_signals(_config()) as recording:
        placed.send(sender="checkout")

    assert_sent(recording, placed, sender="checkout", times=1)


def test_assert_sent_rejects_a_negative_count(saved_author: Recording) -> None:
    with pytest.raises(TypeError, match="times must be None or a non-negative int"):
        assert_sent(saved_author, post_save, times=-1)


# -- assert_not_sent ----------------------------------------------------------------------------


def test_assert_not_sent_passes_for_a_signal_not_sent(saved_author: Recording) -> None:
    assert_not_sent(saved_author, pre_delete)


def test_assert_not_sent_passes_for_another_sender(saved_author: Recording) -> None:
    assert_not_sent(saved_author, post_save, sender=Tag)


def test_assert_not_sent_fails_with_where_it_was_sent(saved_author: Recording) -> None:
    message = _message(assert_not_sent, saved_author, post_save, sender=Book)
    lines = message.splitlines()

    assert lines[0] == (
        "Expected django.db.models.signals.post_save with sender=testapp.Book not to be sent; "
        "it was sent 1 time."
    )
    assert lines[1].startswith("First sent at tests/test_testing.py:")
    assert lines[1].endswith(" in add_book.")
    assert "What was recorded:" in lines


# -- assert_received ----------------------------------------------------------------------------


def test_assert_received_passes_for_a_called_receiver(saved_author: Recording) -> None:
    assert_received(saved_author, add_book, times=1)


def test_assert_received_matches_bound_methods_of_any_instance() -> None:
    first, second = Auditor(), Auditor()
    placed.connect(first.on_placed, dispatch_uid="test_testing.first")
    placed.connect(second.on_placed, dispatch_uid="test_testing.second")
    try:
        with record_signals(_config()) as recording:
            placed.send(sender=None)
    finally:
        placed.disconnect(dispatch_uid="test_testing.first")
        placed.disconnect(dispatch_uid="test_testing.second")

    assert_received(recording, Auditor().on_placed, times=2)


def test_assert_received_can_be_limited_to_a_signal_and_sender(saved_author: Recording) -> None:
    assert_received(saved_author, add_book, signal=post_save, sender=Book, times=0)
    assert_received(saved_author, add_book, signal=post_save, sender=Author, times=1)


def test_assert_received_fails_on_a_wrong_count_and_shows_the_tree(
    saved_author: Recording,
) -> None:
    message = _message(assert_received, saved_author, add_book, times=3)
    lines = message.splitlines()

    assert (
        lines[0]
        == "Expected tests.test_testing.add_book to be called 3 times; it was called 1 time."
    )
    assert "What was recorded:" in lines
    assert any(line.startswith("└─ tests.test_testing.add_book  ") for line in lines)


def test_assert_received_says_how_often_it_was_called_elsewhere(saved_author: Recording) -> None:
    message = _message(assert_received, saved_author, add_book, sender=Book)

    assert message.splitlines()[:2] == [
        "Expected tests.test_testing.add_book to be called with sender=testapp.Book; "
        "it was not called.",
        "It was called 1 time in all.",
    ]


def test_assert_received_counts_calls_that_raised(rejecting_receiver: None) -> None:
    with record_signals(_config()) as recording:
        placed.send_robust(sender=None)

    assert_received(recording, reject, signal=placed, times=1)


# -- assert_not_received ------------------------------------------------------------------------


def test_assert_not_received_passes_for_a_receiver_not_called(saved_author: Recording) -> None:
    assert_not_received(saved_author, reject)


def test_assert_not_received_fails_naming_the_send(saved_author: Recording) -> None:
    message = _message(assert_not_received, saved_author, add_book)

    assert message.splitlines()[0] == (
        "Expected tests.test_testing.add_book not to be called; it was called 1 time, first by "
        "django.db.models.signals.post_save from sender testapp.Author."
    )


# -- assert_no_problems -------------------------------------------------------------------------


def test_assert_no_problems_passes_for_a_clean_recording(saved_author: Recording) -> None:
    assert_no_problems(saved_author)


def test_assert_no_problems_lists_the_problems_then_the_tree(rejecting_receiver: None) -> None:
    with record_signals(_config()) as recording:
        placed.send_robust(sender=None)

    lines = _message(assert_no_problems, recording).splitlines()

    assert lines[0] == "Expected no signal problems; found 1 signal problem:"
    assert lines[1] == (
        "  swallowed_error: tests.test_testing.placed.send_robust() swallowed "
        "ValueError: rejected raised by tests.test_testing.reject"
    )
    assert lines[2:4] == ["", "What was recorded:"]
    assert "└─ tests.test_testing.reject  " in "\n".join(lines)


def test_assert_no_problems_ignores_the_kinds_it_is_told_to(rejecting_receiver: None) -> None:
    with record_signals(_config()) as recording:
        placed.send_robust(sender=None)

    assert_no_problems(recording, ignore=["swallowed_error"])


def test_slow_receivers_are_problems_unless_ignored(saved_author: Recording) -> None:
    with record_signals(_config(slow_receiver_ns=0)) as recording:
        Author.objects.create(name="Bea")

    with pytest.raises(SignalAssertionError, match="slow_receiver"):
        assert_no_problems(recording)
    assert_no_problems(recording, ignore=["slow_receiver"])


def test_a_truncated_recording_is_mentioned_in_the_message(author_receiver: None) -> None:
    with record_signals(_config(max_calls=1)) as recording:
        Author.objects.create(name="Ann")
        Author.objects.create(name="Bea")

    message = _message(assert_sent, recording, pre_delete)

    assert message.splitlines()[1] == (
        "The recording reached MAX_CALLS: sends and calls past it were not stored."
    )


# -- SignalRecording ----------------------------------------------------------------------------


def test_signal_recording_offers_the_assertions_as_methods(saved_author: Recording) -> None:
    signals = SignalRecording(saved_author)

    signals.assert_sent(post_save, sender=Author, times=1)
    signals.assert_not_sent(pre_delete)
    signals.assert_received(add_book, times=1)
    signals.assert_not_received(reject)
    signals.assert_no_problems()
    with pytest.raises(SignalAssertionError):
        signals.assert_sent(pre_delete)


def test_signal_recording_shows_the_recording(saved_author: Recording) -> None:
    signals = SignalRecording(saved_author)

    assert signals.sends == saved_author.sends
    assert (
        signals.format_tree(color=False).splitlines()[1:]
        == (saved_author.format_tree(color=False).splitlines()[1:])
    )


def test_the_functions_accept_a_signal_recording(saved_author: Recording) -> None:
    assert_sent(SignalRecording(saved_author), post_save, sender=Book, times=1)


def test_a_signal_assertion_error_is_an_assertion_error() -> None:
    assert issubclass(SignalAssertionError, AssertionError)


# -- the unittest mixin -------------------------------------------------------------------------


class MixinTests(SignalAssertionsMixin, TestCase):
    """Django's TestCase with the mixin, on the test database."""

    def setUp(self) -> None:
        post_save.connect(add_book, sender=Author, weak=False, dispatch_uid="test_testing.mixin")
        self.addCleanup(post_save.disconnect, sender=Author, dispatch_uid="test_testing.mixin")

    def _record(self) -> Recording:
        with record_signals(_config()) as recording:
            Author.objects.create(name="Ann")
        return recording

    def test_assertions_pass(self) -> None:
        recording = self._record()

        self.assertSignalSent(recording, post_save, sender=Author, times=1)
        self.assertSignalNotSent(recording, pre_delete)
        self.assertSignalReceived(recording, add_book, signal=post_save, times=1)
        self.assertSignalNotReceived(recording, reject)
        self.assertNoSignalProblems(recording)

    def test_a_failure_is_the_test_cases_failure_with_the_tree(self) -> None:
        recording = self._record()

        with pytest.raises(self.failureException) as caught:
            self.assertSignalSent(recording, post_save, sender=Author, times=3)

        message = str(caught.value)
        assert message.startswith("Expected django.db.models.signals.post_save")
        assert "\n└─ tests.test_testing.add_book  " in message

    def test_each_assertion_can_fail(self) -> None:
        recording = self._record()
        failures = [
            lambda: self.assertSignalSent(recording, pre_delete),
            lambda: self.assertSignalNotSent(recording, post_save),
            lambda: self.assertSignalReceived(recording, reject),
            lambda: self.assertSignalNotReceived(recording, add_book),
        ]
        for failure in failures:
            with self.subTest(failure=failure), pytest.raises(self.failureException):
                failure()


class _CustomFailure(Exception):
    pass


class _CustomCase(SignalAssertionsMixin, unittest.TestCase):
    failureException = _CustomFailure

    def runTest(self) -> None:  # pragma: no cover - never run, only instantiated
        pass


def test_the_mixin_fails_with_the_test_cases_failure_exception(saved_author: Recording) -> None:
    case = _CustomCase()

    with pytest.raises(_CustomFailure, match="What was recorded:"):
        case.assertSignalSent(saved_author, pre_delete)


def test_a_folded_run_counts_every_send_it_stands_for() -> None:
    from signal_panel import record_signals
    from signal_panel.testing import assert_sent

    lonely = Signal()
    with record_signals() as recording:
        for _ in range(3):
            lonely.send(sender=None)
    assert len(recording.sends) == 1
    assert_sent(recording, lonely, times=3)
    with pytest.raises(AssertionError, match="it was sent 3 times"):
        assert_sent(recording, lonely, times=2)


# -- mute_receivers -----------------------------------------------------------------------------


def count_save(sender: Any, **kwargs: Any) -> None:
    saves.append(sender)


saves: list[Any] = []


@pytest.fixture
def two_receivers(author_receiver: None) -> Iterator[None]:
    """add_book (for Author) and count_save (for any sender) on post_save."""
    saves.clear()
    post_save.connect(count_save, weak=False, dispatch_uid="test_testing.count_save")
    yield
    post_save.disconnect(dispatch_uid="test_testing.count_save")


@dataclasses.dataclass
class Receivers:
    first: Callable[..., None]
    second: Callable[..., None]
    third: Callable[..., None]
    called: list[str]


@pytest.fixture
def three_on_placed() -> Iterator[Receivers]:
    """Three receivers of ``placed``, the middle one weakly connected, each with a dispatch_uid."""
    called: list[str] = []

    def first(sender: Any, **kwargs: Any) -> None:
        called.append("first")

    def second(sender: Any, **kwargs: Any) -> None:
        called.append("second")

    def third(sender: Any, **kwargs: Any) -> None:
        called.append("third")

    placed.connect(first, weak=False, dispatch_uid="test_testing.first")
    placed.connect(second, dispatch_uid="test_testing.second")
    placed.connect(third, weak=False, dispatch_uid="test_testing.third")
    yield Receivers(first, second, third, called)
    for uid in ("first", "second", "third"):
        placed.disconnect(dispatch_uid=f"test_testing.{uid}")


def test_a_muted_receiver_is_not_called_and_the_others_are(two_receivers: None) -> None:
    with mute_receivers(add_book):
        Author.objects.create(name="Ann")

    assert Book.objects.count() == 0
    assert saves == [Author]


def test_a_receiver_runs_again_after_the_block(two_receivers: None) -> None:
    with mute_receivers(add_book):
        pass
    Author.objects.create(name="Ann")

    assert Book.objects.count() == 1


def test_a_receiver_can_be_muted_by_its_dotted_name(two_receivers: None) -> None:
    with mute_receivers("tests.test_testing.add_book", signal=post_save):
        Author.objects.create(name="Ann")

    assert Book.objects.count() == 0
    assert saves == [Author]


def test_the_recording_shows_the_muted_receiver_was_not_called(two_receivers: None) -> None:
    with record_signals(_config()) as recording, mute_receivers(add_book):
        Author.objects.create(name="Ann")

    assert_not_received(recording, add_book)
    assert_received(recording, count_save, sender=Author, times=1)
    # Muting is not a disconnection: no connect()/disconnect() was seen, no problem found.
    assert recording.connections == []
    assert_no_problems(recording)


def test_muting_puts_back_the_same_entries_in_the_same_order(three_on_placed: Receivers) -> None:
    on = three_on_placed
    before = list(placed.receivers)

    with mute_receivers(on.second):
        inside = list(placed.receivers)
        placed.send(sender=None)

    assert [entry[0] for entry in inside] == [before[0][0], before[2][0]]
    assert on.called == ["first", "third"]
    assert len(placed.receivers) == len(before)
    assert all(now is then for now, then in zip(placed.receivers, before, strict=True))
    # The dispatch_uid still names it.
    assert placed.disconnect(dispatch_uid="test_testing.second")
    placed.connect(on.second, dispatch_uid="test_testing.second")


def test_a_weakly_connected_muted_receiver_stays_weak(three_on_placed: Receivers) -> None:
    def gone(sender: Any, **kwargs: Any) -> None:
        raise AssertionError("a collected receiver was called")

    placed.connect(gone, dispatch_uid="test_testing.gone")
    collected = weakref.ref(gone)
    with mute_receivers(gone):
        pass
    del gone
    gc.collect()

    assert collected() is None
    placed.send(sender=None)
    assert all(entry[0][0] != "test_testing.gone" for entry in placed.receivers)


def test_a_receiver_collected_while_muted_is_not_put_back(three_on_placed: Receivers) -> None:
    auditor = Auditor()
    placed.connect(auditor.on_placed, dispatch_uid="test_testing.auditor")
    collected = weakref.ref(auditor)
    with mute_receivers(Auditor.on_placed, signal=placed):
        del auditor
        gc.collect()
        assert collected() is None

    assert all(entry[0][0] != "test_testing.auditor" for entry in placed.receivers)
    placed.send(sender=None)
    assert three_on_placed.called == ["first", "second", "third"]


def test_the_receivers_come_back_when_the_block_raises(three_on_placed: Receivers) -> None:
    on = three_on_placed
    before = list(placed.receivers)

    with pytest.raises(ValueError, match="inside"), mute_receivers(on.first, on.third):
        raise ValueError("inside")

    assert all(now is then for now, then in zip(placed.receivers, before, strict=True))
    placed.send(sender=None)
    assert on.called == ["first", "second", "third"]


def test_mute_receivers_decorates_a_function(three_on_placed: Receivers) -> None:
    on = three_on_placed

    @mute_receivers(on.second)
    def send() -> None:
        placed.send(sender=None)

    send()
    send()
    placed.send(sender=None)

    assert on.called == ["first", "third", "first", "third", "first", "second", "third"]


async def test_mute_receivers_decorates_a_coroutine_function(
    three_on_placed: Receivers,
) -> None:
    on = three_on_placed

    @mute_receivers("tests.test_testing.three_on_placed.<locals>.third")
    async def send() -> None:
        assert len(placed.receivers) == 2
        await placed.asend(sender=None)

    await send()
    assert len(placed.receivers) == 3
    assert on.called == ["first", "second"]


def test_mutes_nest(three_on_placed: Receivers) -> None:
    on = three_on_placed
    before = list(placed.receivers)

    with mute_receivers(on.first):
        with mute_receivers(on.third):
            placed.send(sender=None)
        placed.send(sender=None)
    placed.send(sender=None)

    assert on.called == ["second", "second", "third", "first", "second", "third"]
    assert all(now is then for now, then in zip(placed.receivers, before, strict=True))


def test_a_nested_mute_of_a_muted_receiver_leaves_it_muted(three_on_placed: Receivers) -> None:
    on = three_on_placed

    with mute_receivers(on.first):
        with mute_receivers(on.first, on.second):
            placed.send(sender=None)
        placed.send(sender=None)
    placed.send(sender=None)

    assert on.called == ["third", "second", "third", "first", "second", "third"]


def test_muting_a_receiver_not_connected_is_an_error(two_receivers: None) -> None:
    muting = mute_receivers("tests.test_testing.add_boo", signal=post_save)
    with pytest.raises(ReceiverNotConnectedError) as caught, muting:
        pass  # pragma: no cover - never entered

    assert str(caught.value).splitlines() == [
        "Cannot mute tests.test_testing.add_boo: not connected to "
        "django.db.models.signals.post_save.",
        "Connected, with a close name: tests.test_testing.add_book "
        "(to django.db.models.signals.post_save).",
    ]
    assert isinstance(caught.value, LookupError)


def test_a_failed_mute_mutes_nothing(two_receivers: None) -> None:
    before = list(post_save.receivers)

    muting = mute_receivers(add_book, reject)
    expected = r"Cannot mute tests\.test_testing\.reject"
    with pytest.raises(ReceiverNotConnectedError, match=expected), muting:
        pass  # pragma: no cover - never entered

    assert all(now is then for now, then in zip(post_save.receivers, before, strict=True))


def test_without_signal_every_known_signal_is_searched(two_receivers: None) -> None:
    made_here = Signal()
    made_here.connect(count_save, weak=False)
    try:
        with mute_receivers(count_save):
            made_here.send(sender="here")
            Author.objects.create(name="Ann")
        made_here.send(sender="after")
    finally:
        made_here.disconnect(count_save)

    assert saves == ["after"]
    assert Book.objects.count() == 1


def test_a_cached_signal_forgets_its_cache() -> None:
    cached = Signal(use_caching=True)
    called: list[Any] = []

    def note(sender: Any, **kwargs: Any) -> None:
        called.append(sender)

    def other(sender: Any, **kwargs: Any) -> None:
        called.append("other")

    cached.connect(note)
    cached.connect(other)
    cached.send(sender=Author)  # caches Author's receivers
    with mute_receivers(note, signal=cached):
        cached.send(sender=Author)
    cached.send(sender=Author)

    assert called == [Author, "other", "other", Author, "other"]


def test_a_receiver_disconnected_while_muted_stays_disconnected(
    three_on_placed: Receivers,
) -> None:
    on = three_on_placed

    with mute_receivers(on.second):
        placed.disconnect(dispatch_uid="test_testing.second")
    placed.send(sender=None)

    assert on.called == ["first", "third"]
    placed.connect(on.second, dispatch_uid="test_testing.second")


def test_a_muted_receiver_still_knows_where_it_was_connected(
    three_on_placed: Receivers,
) -> None:
    on = three_on_placed

    with mute_receivers(on.second):
        # A connect() while muted makes the registry look for connections that ended.
        placed.connect(reject, weak=False, dispatch_uid="test_testing.reject")
        placed.disconnect(dispatch_uid="test_testing.reject")
    with record_signals(_config()) as recording:
        placed.send(sender=None)

    (call,) = [call for call in recording.calls if call.receiver_name.endswith(".second")]
    assert call.connected_at is not None
    assert call.connected_at.startswith("tests/test_testing.py:")


def test_blinker_signals_cannot_be_muted() -> None:
    import blinker

    ding = blinker.Signal()
    muting = mute_receivers(reject, signal=ding)
    expected = r"mutes receivers of Django signals; .* is a blinker"
    with pytest.raises(TypeError, match=expected), muting:
        pass  # pragma: no cover - never entered


def test_mute_receivers_needs_a_receiver() -> None:
    with pytest.raises(TypeError, match="at least one receiver"):
        mute_receivers()
    with pytest.raises(TypeError, match="a callable or its dotted name"):
        mute_receivers(3)  # type: ignore[arg-type]


# -- assert_order -------------------------------------------------------------------------------


def test_assert_order_passes_for_sends_in_the_order_sent(saved_author: Recording) -> None:
    assert_order(saved_author, pre_save, post_save)
    assert_order(saved_author, (post_save, Author), (pre_save, Book), (post_save, Book))


def test_assert_order_passes_for_receiver_calls_and_sends_in_between(
    saved_author: Recording,
) -> None:
    assert_order(saved_author, (pre_save, Author), add_book, (post_save, Book))


def test_assert_order_accepts_dotted_names_of_signals_and_receivers(
    saved_author: Recording,
) -> None:
    assert_order(
        saved_author,
        "django.db.models.signals.post_save",
        "tests.test_testing.add_book",
        ("django.db.models.signals.pre_save", Book),
    )


def test_assert_order_fails_for_steps_out_of_order(saved_author: Recording) -> None:
    message = _message(assert_order, saved_author, (post_save, Book), (pre_save, Author))
    lines = message.splitlines()

    assert lines[0] == (
        "Expected django.db.models.signals.post_save with sender=testapp.Book, then "
        "django.db.models.signals.pre_save with sender=testapp.Author; "
        "django.db.models.signals.pre_save with sender=testapp.Author did not happen after "
        "django.db.models.signals.post_save with sender=testapp.Book."
    )
    assert lines[1:4] == [
        "What happened of those, in order:",
        "  1. django.db.models.signals.pre_save(sender=testapp.Author)",
        "  2. django.db.models.signals.post_save(sender=testapp.Book)",
    ]
    assert "What was recorded:" in lines


def test_assert_order_fails_for_receiver_calls_out_of_order(saved_author: Recording) -> None:
    message = _message(assert_order, saved_author, add_book, (pre_save, Author))

    assert message.splitlines()[2] == (
        "  1. django.db.models.signals.pre_save(sender=testapp.Author)"
    )
    assert message.splitlines()[3] == (
        "  2. tests.test_testing.add_book, receiving "
        "django.db.models.signals.post_save(sender=testapp.Author)"
    )


def test_assert_order_fails_for_a_step_that_never_happened(saved_author: Recording) -> None:
    lines = _message(assert_order, saved_author, post_save, pre_delete).splitlines()

    assert lines[0].endswith("; django.db.models.signals.pre_delete did not happen.")
    assert lines[1] == "What happened of those, in order:"


def test_assert_order_rejects_a_name_of_both_a_signal_and_a_receiver() -> None:
    def impostor(sender: Any, **kwargs: Any) -> None:
        pass

    impostor.__qualname__ = "placed"  # named tests.test_testing.placed, as the signal is
    placed.connect(impostor)
    try:
        with record_signals(_config()) as recording:
            placed.send(sender=None)
    finally:
        placed.disconnect(impostor)

    with pytest.raises(ValueError, match="names both a signal and a receiver"):
        assert_order(recording, "tests.test_testing.placed")


def test_assert_order_rejects_what_is_not_a_step(saved_author: Recording) -> None:
    with pytest.raises(TypeError, match="an order step is a signal, a receiver"):
        assert_order(saved_author, 3)
    with pytest.raises(TypeError, match="needs at least one step"):
        assert_order(saved_author)


def test_assert_order_is_a_method_of_the_fixture_and_the_mixin(saved_author: Recording) -> None:
    SignalRecording(saved_author).assert_order(pre_save, add_book)
    with pytest.raises(SignalAssertionError):
        SignalRecording(saved_author).assert_order(add_book, pre_save, pre_save, pre_save)
    case = _CustomCase()
    case.assertSignalOrder(saved_author, add_book, (post_save, Book))
    with pytest.raises(_CustomFailure, match="did not happen after"):
        case.assertSignalOrder(saved_author, (post_save, Book), add_book)


# -- assert_sent with arguments -----------------------------------------------------------------


@pytest.fixture
def saved_twice(author_receiver: None) -> tuple[Recording, Author]:
    """Ann created (with her first book), then Ann saved again."""
    with record_signals(_config()) as recording:
        ann = Author.objects.create(name="Ann")
        ann.save()
    return recording, ann


def test_assert_sent_matches_arguments_by_value(saved_twice: tuple[Recording, Author]) -> None:
    recording, _ann = saved_twice

    assert_sent(recording, post_save, sender=Author, created=True, times=1)
    assert_sent(recording, post_save, sender=Author, created=False, raw=False, using="default")
    assert_sent(recording, post_save, created=True, times=2)  # Ann and her book
    assert_sent(recording, post_save, sender=Author, update_fields=None, times=2)


def test_a_bool_argument_matches_only_a_bool(saved_twice: tuple[Recording, Author]) -> None:
    recording, _ann = saved_twice

    assert_sent(recording, post_save, sender=Author, created=1, times=0)


def test_assert_sent_matches_a_model_instance_by_label_and_pk(
    saved_twice: tuple[Recording, Author],
) -> None:
    recording, ann = saved_twice
    bea = Author.objects.create(name="Bea")

    assert_sent(recording, post_save, instance=ann, times=2)
    assert_sent(recording, post_save, instance=bea, times=0)
    # A model class is matched by its label, as a sender is.
    assert_sent(recording, pre_init, sender=Book, times=1)
    assert_sent(recording, class_prepared, times=0)


def test_assert_sent_calls_a_predicate_with_what_was_kept(
    saved_twice: tuple[Recording, Author],
) -> None:
    recording, ann = saved_twice
    seen: list[Any] = []

    def book_of_ann(instance: KeptValue) -> bool:
        seen.append(instance)
        return instance.label == "testapp.Book"

    assert_sent(recording, post_save, instance=book_of_ann, created=lambda c: c is True, times=1)
    assert seen[0] == KeptValue(
        "model", "testapp.Author", ann.pk, f"<testapp.Author pk={ann.pk}>", None
    )
    assert_sent(recording, post_save, sender=Author, instance=lambda i: i.pk == ann.pk, times=2)


def test_any_matches_an_argument_that_was_sent(saved_twice: tuple[Recording, Author]) -> None:
    recording, _ann = saved_twice

    assert_sent(recording, post_save, sender=Author, update_fields=ANY, times=2)
    assert_sent(recording, post_save, sender=Author, not_an_argument=ANY, times=0)


def test_a_failure_lists_the_closest_sends(saved_twice: tuple[Recording, Author]) -> None:
    recording, ann = saved_twice

    lines = _message(
        assert_sent, recording, post_save, sender=Author, created=True, raw=True
    ).splitlines()

    assert lines[0] == (
        "Expected django.db.models.signals.post_save with sender=testapp.Author, created=True, "
        "raw=True to be sent; it was not sent."
    )
    assert lines[1] == "It was sent 3 times otherwise; the closest:"
    assert lines[2].startswith("  sender=testapp.Author at tests/test_testing.py:")
    assert lines[3:4] == ["    raw: expected True, sent False"]
    # Equally close ones in the order they were sent: Ann's book, then Ann saved again.
    line = add_book.__code__.co_firstlineno + 2
    assert lines[4] == f"  sender=testapp.Book at tests/test_testing.py:{line} in add_book:"
    assert lines[5:7] == [
        "    sender: expected testapp.Author, sent testapp.Book",
        "    raw: expected True, sent False",
    ]
    assert lines[7].startswith("  sender=testapp.Author at tests/test_testing.py:")
    assert lines[8:11] == [
        "    created: expected True, sent False",
        "    raw: expected True, sent False",
        "",
    ]
    assert f"instance=<testapp.Author pk={ann.pk}>" not in "\n".join(lines[:11])


def test_a_wrong_count_with_arguments_says_how_many_matched(
    saved_twice: tuple[Recording, Author],
) -> None:
    recording, ann = saved_twice

    lines = _message(assert_sent, recording, post_save, instance=ann, times=1).splitlines()

    assert lines[0] == (
        "Expected django.db.models.signals.post_save with "
        f"instance=<testapp.Author pk={ann.pk}> to be sent 1 time; it was sent 2 times."
    )
    assert lines[1] == "It was sent 1 time otherwise; the closest:"
    assert lines[3] == (
        f"    instance: expected <testapp.Author pk={ann.pk}>, "
        f"sent <testapp.Book pk={Book.objects.get().pk}>"
    )


def test_a_missing_argument_is_shown_as_not_sent() -> None:
    with record_signals(_config()) as recording:
        placed.send(sender="checkout", total=3)

    lines = _message(assert_sent, recording, placed, total=3, coupon="X").splitlines()

    assert lines[1:4] == [
        "It was sent 1 time otherwise; the closest:",
        "  sender='checkout' at tests/test_testing.py:"
        + lines[2].split("tests/test_testing.py:", 1)[1],
        "    coupon: expected 'X', sent (not sent)",
    ]


def test_a_failure_never_shows_a_secret() -> None:
    with record_signals(_config()) as recording:
        placed.send(sender=None, api_token="s3cret-value", total=3)

    assert_sent(recording, placed, api_token="s3cret-value", total=3)
    message = _message(assert_sent, recording, placed, api_token="other-value", total=3)

    assert "s3cret-value" not in message
    assert "other-value" not in message
    assert "    api_token: expected ********************, sent ********************" in message


def test_the_fixture_and_the_mixin_match_arguments(saved_twice: tuple[Recording, Author]) -> None:
    recording, ann = saved_twice
    signals = SignalRecording(recording)
    case = _CustomCase()

    signals.assert_sent(post_save, sender=Author, created=True, instance=ann, times=1)
    case.assertSignalSent(recording, post_save, Author, 1, created=False)
    with pytest.raises(SignalAssertionError, match="created=False to be sent 2 times"):
        signals.assert_sent(post_save, sender=Author, created=False, times=2)
    with pytest.raises(_CustomFailure, match="the closest:"):
        case.assertSignalSent(recording, post_save, created=None)


def test_a_predicate_that_raises_does_not_match_and_says_so(rejecting_receiver: None) -> None:
    with record_signals(_config()) as recording:
        placed.send_robust(sender=None, fields=None)
        placed.send_robust(sender=None, fields=("a", "b"))

    assert_sent(recording, placed, fields=lambda kept: kept.length == 2, times=1)
    message = _message(assert_sent, recording, placed, fields=lambda kept: kept.length == 3)

    predicate = "tests.test_testing.test_a_predicate_that_raises_does_not_match_and_says_so"
    expected = f"    fields: expected a value {predicate}.<locals>.<lambda> accepts, sent None "
    assert expected in message
    assert "(it raised AttributeError: 'NoneType' object has no attribute 'length')" in message
    assert "sent ('a', 'b') (it returned false)" in message


def test_a_failure_says_when_sends_were_folded_into_runs() -> None:
    with record_signals(_config()) as recording:
        placed.send(sender=None, total=1)
        placed.send(sender=None, total=2)

    assert len(recording.sends) == 1
    assert_sent(recording, placed, total=1, times=2)
    lines = _message(assert_sent, recording, placed, total=2).splitlines()

    assert lines[4] == (
        "2 of its sends reached no receiver and were stored as runs of alike sends, each with "
        "the arguments of its first send only."
    )
