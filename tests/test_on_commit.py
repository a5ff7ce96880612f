"""What became of the transaction.on_commit() callbacks receivers registered, and the
discarded_on_commit problem."""

from __future__ import annotations

import gc
import logging
import weakref
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.db import connection, transaction
from django.db.models.signals import post_save

from signal_panel import record_signals
from tests.testapp.models import Author

pytestmark = pytest.mark.django_db(transaction=True)

log: list[str] = []


def send_welcome() -> None:
    log.append("welcome")


def fail_loudly() -> None:
    raise ValueError("mail server down")


class Callback:
    """A callable object, to see whether anything keeps it alive."""

    def __call__(self) -> None:
        log.append("callback")


#: What the receiver registers with on_commit(), set per test.
queued: list[tuple[Callable[[], Any], bool]] = []


def on_author_saved(sender: Any, instance: Any, **kwargs: Any) -> None:
    for func, robust in queued:
        transaction.on_commit(func, robust=robust)


@pytest.fixture(autouse=True)
def receiver() -> Iterator[None]:
    log.clear()
    queued.clear()
    post_save.connect(on_author_saved, sender=Author, weak=False)
    yield
    post_save.disconnect(on_author_saved, sender=Author)


def save_then_roll_back(name: str) -> None:
    with transaction.atomic():
        Author.objects.create(name=name)
        raise KeyError("undo")


def save_then_commit(name: str) -> None:
    with transaction.atomic():
        Author.objects.create(name=name)


def callbacks_of(recording: Any) -> list[Any]:
    [call] = [c for c in recording.calls if c.receiver_name.endswith("on_author_saved")]
    return call.commit_callbacks


def test_a_callback_queued_in_a_transaction_ran_at_commit() -> None:
    queued.append((send_welcome, False))
    with record_signals() as recording:
        with transaction.atomic():
            Author.objects.create(name="Ann")
            assert log == []
        assert log == ["welcome"]
    [callback] = callbacks_of(recording)
    assert callback.name == "tests.test_on_commit.send_welcome"
    assert (callback.outcome, callback.immediate, callback.error) == ("ran", False, None)
    assert callback.duration_ns > 0
    [call] = [c for c in recording.calls if c.commit_callbacks]
    # It ran after the receiver call ended: at the commit.
    assert callback.start_ns is not None
    assert callback.start_ns >= call.start_ns + call.duration_ns
    assert call.on_commit == 1


def test_a_callback_outside_a_transaction_ran_at_once() -> None:
    queued.append((send_welcome, False))
    with record_signals() as recording:
        Author.objects.create(name="Ann")
    [callback] = callbacks_of(recording)
    assert (callback.outcome, callback.immediate) == ("ran", True)
    assert log == ["welcome"]


def test_a_rollback_discards_the_callback_and_is_a_problem() -> None:
    queued.append((send_welcome, False))
    with record_signals() as recording, pytest.raises(KeyError):
        save_then_roll_back("Ann")
    [callback] = callbacks_of(recording)
    assert callback.outcome == "discarded"
    assert callback.start_ns is None
    assert log == []
    [problem] = [p for p in recording.problems if p.kind == "discarded_on_commit"]
    assert problem.message.startswith(
        "tests.test_on_commit.send_welcome, queued with on_commit() by "
        "tests.test_on_commit.on_author_saved (post_save for testapp.Author), was discarded: "
    )
    assert problem.details["outcome"] == "discarded"
    assert [call.receiver_name for call in problem.calls] == [
        "tests.test_on_commit.on_author_saved"
    ]


def test_a_savepoint_rollback_discards_only_its_callbacks() -> None:
    queued.append((send_welcome, False))
    with record_signals() as recording, transaction.atomic():
        Author.objects.create(name="kept")
        with pytest.raises(KeyError):
            save_then_roll_back("rolled back")
    outcomes = [
        callback.outcome
        for call in recording.calls
        if call.receiver_name.endswith("on_author_saved")
        for callback in call.commit_callbacks
    ]
    assert outcomes == ["ran", "discarded"]
    assert log == ["welcome"]


def test_a_callback_still_queued_when_the_recording_ends_is_pending() -> None:
    queued.append((send_welcome, False))
    with transaction.atomic():
        with record_signals() as recording:
            Author.objects.create(name="Ann")
        [callback] = callbacks_of(recording)
        assert callback.outcome == "pending"
    # Ran at the commit, after the recording ended: the recording says what it saw.
    assert log == ["welcome"]
    assert not [p for p in recording.problems if p.kind == "discarded_on_commit"]


def test_a_raising_robust_callback_is_logged_as_django_logs_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    queued.append((fail_loudly, True))
    with transaction.atomic():
        Author.objects.create(name="vanilla")
    vanilla = [(r.name, r.levelno, r.getMessage()) for r in caplog.records]
    caplog.clear()
    with record_signals() as recording, transaction.atomic():
        Author.objects.create(name="recorded")
    recorded = [(r.name, r.levelno, r.getMessage()) for r in caplog.records]
    assert recorded == vanilla
    assert vanilla[0][1] == logging.ERROR
    assert "fail_loudly" in vanilla[0][2]
    [callback] = callbacks_of(recording)
    assert (callback.outcome, callback.error) == ("ran", "ValueError: mail server down")


def test_a_raising_callback_raises_as_it_does_unrecorded_and_the_next_one_is_lost() -> None:
    queued.extend([(fail_loudly, False), (send_welcome, False)])
    with pytest.raises(ValueError, match="mail server down"), transaction.atomic():
        Author.objects.create(name="vanilla")
    assert log == []
    with record_signals() as recording, pytest.raises(ValueError, match="mail server down"):
        save_then_commit("recorded")
    assert log == []
    outcomes = [(c.outcome, c.error) for c in callbacks_of(recording)]
    assert outcomes == [("ran", "ValueError: mail server down"), ("lost", None)]
    [problem] = [p for p in recording.problems if p.kind == "discarded_on_commit"]
    assert "never ran: an earlier on_commit callback of the same commit raised" in problem.message


def test_the_queue_holds_the_programs_own_callback() -> None:
    queued.append((send_welcome, False))
    with record_signals(), transaction.atomic():
        Author.objects.create(name="Ann")
        assert [entry[1] for entry in connection.run_on_commit] == [send_welcome]


def test_no_callback_is_kept_alive_by_the_recording() -> None:
    callback = Callback()
    ref = weakref.ref(callback)
    queued.append((callback, False))
    with record_signals() as recording, transaction.atomic():
        Author.objects.create(name="Ann")
    queued.clear()
    del callback
    gc.collect()
    assert ref() is None
    assert log == ["callback"]
    assert [c.outcome for c in callbacks_of(recording)] == ["ran"]
