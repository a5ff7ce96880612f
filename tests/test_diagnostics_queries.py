"""Queries and on_commit callbacks per receiver call, Send.in_atomic, and repeated_query."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.db import DatabaseError, connection, connections, transaction
from django.db.models.signals import post_save
from django.dispatch import Signal

from signal_panel import record_signals
from signal_panel.diagnostics import query_shape
from tests.testapp.models import Author, Book, Tag

pytestmark = pytest.mark.django_db


@contextmanager
def connected(
    receiver: Callable[..., Any], signal: Signal = post_save, **kwargs: Any
) -> Iterator[None]:
    signal.connect(receiver, weak=False, **kwargs)
    try:
        yield
    finally:
        signal.disconnect(receiver, sender=kwargs.get("sender"))


def only_call(recording: Any, receiver_name: str) -> Any:
    calls = [call for call in recording.calls if call.receiver_name.endswith(receiver_name)]
    assert len(calls) == 1, [call.receiver_name for call in recording.calls]
    return calls[0]


# -- receivers ---------------------------------------------------------------------------------


def count_books(sender: Any, instance: Author, **kwargs: Any) -> None:
    Book.objects.filter(author=instance).count()
    Book.objects.filter(title="x").exists()


def titles_one_by_one(sender: Any, instance: Author, **kwargs: Any) -> None:
    # The classic N+1: one query for the ids, then one per book.
    for pk in Book.objects.filter(author=instance).values_list("pk", flat=True):
        Book.objects.get(pk=pk)


def quiet(sender: Any, **kwargs: Any) -> None:
    pass


def saves_a_tag(sender: Any, instance: Author, **kwargs: Any) -> None:
    Tag.objects.create(name="from-author")  # post_save of Tag: count_tag_queries runs


def count_tag_queries(sender: Any, instance: Tag, **kwargs: Any) -> None:
    Tag.objects.count()
    Tag.objects.count()
    Tag.objects.count()


def on_the_other_database(sender: Any, instance: Author, **kwargs: Any) -> None:
    Book.objects.using("other").count()
    Book.objects.using("other").create(title="elsewhere")


def broken_sql(sender: Any, **kwargs: Any) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM no_such_table")


def registers_callbacks(sender: Any, instance: Author, **kwargs: Any) -> None:
    transaction.on_commit(lambda: ran.append("first"))
    transaction.on_commit(lambda: ran.append("second"))


ran: list[str] = []


def in_lists(sender: Any, instance: Author, **kwargs: Any) -> None:
    for size in range(1, 7):
        list(Book.objects.filter(pk__in=range(size)))


# -- queries per receiver call -----------------------------------------------------------------


def test_queries_run_by_a_receiver_are_counted_on_its_call() -> None:
    with connected(count_books, sender=Author), record_signals() as recording:
        Author.objects.create(name="a")
    call = only_call(recording, "count_books")
    assert call.queries == 2
    assert call.query_ns > 0


def test_queries_of_the_send_itself_are_not_counted_on_receivers() -> None:
    with connected(quiet, sender=Author), record_signals() as recording:
        Author.objects.create(name="a")  # the INSERT runs before post_save is sent
    assert only_call(recording, "quiet").queries == 0


def test_query_shapes_count_each_sql_text() -> None:
    with connected(count_books, sender=Author), record_signals() as recording:
        Author.objects.create(name="a")
    shapes = only_call(recording, "count_books").query_shapes
    assert shapes is not None
    assert sorted(shapes.values()) == [1, 1]
    assert all("testapp_book" in sql for sql in shapes)


def test_queries_of_a_nested_receiver_count_on_the_nested_call_only() -> None:
    with (
        connected(saves_a_tag, sender=Author),
        connected(count_tag_queries, sender=Tag),
        record_signals() as recording,
    ):
        Author.objects.create(name="a")
    assert only_call(recording, "count_tag_queries").queries == 3
    assert only_call(recording, "saves_a_tag").queries == 1  # its INSERT


@pytest.mark.django_db(databases=["default", "other"])
def test_queries_on_every_database_alias_are_counted() -> None:
    with connected(on_the_other_database, sender=Author), record_signals() as recording:
        Author.objects.create(name="a")
    assert only_call(recording, "on_the_other_database").queries == 2


def test_a_failing_query_raises_as_without_recording_and_is_counted() -> None:
    with (
        connected(broken_sql, sender=Author),
        record_signals() as recording,
        pytest.raises(DatabaseError, match="no_such_table"),
        transaction.atomic(),
    ):
        Author.objects.create(name="a")
    call = only_call(recording, "broken_sql")
    assert call.queries == 1
    assert call.error is not None


def test_the_queries_own_execute_wrappers_still_see_every_query_in_order() -> None:
    seen: list[str] = []

    def spy(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        seen.append(sql)
        return execute(sql, params, many, context)

    expected: list[str] = []
    with connected(count_books, sender=Author):
        with connection.execute_wrapper(spy):
            Author.objects.create(name="plain")
        expected, seen[:] = list(seen), []
        with record_signals(), connection.execute_wrapper(spy):
            Author.objects.create(name="plain")
    assert [sql.split(" WHERE")[0] for sql in seen] == [sql.split(" WHERE")[0] for sql in expected]
    assert len(seen) == 3


def test_execute_wrappers_are_left_as_they_were() -> None:
    def outer(execute: Any, *args: Any) -> Any:
        return execute(*args)

    with connected(count_books, sender=Author), connection.execute_wrapper(outer):
        with record_signals():
            Author.objects.create(name="a")
        assert connection.execute_wrappers == [outer]
    assert connection.execute_wrappers == []


def test_a_query_run_from_another_wrapper_is_counted_once() -> None:
    def audit(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        if "testapp_tag" not in sql:
            Tag.objects.exists()  # a query of its own, run from inside the wrappers
        return execute(sql, params, many, context)

    with (
        connected(count_books, sender=Author),
        record_signals() as recording,
        connection.execute_wrapper(audit),
    ):
        Author.objects.create(name="a")
    assert only_call(recording, "count_books").queries == 4


def test_executemany_counts_as_one_query() -> None:
    def insert_many(sender: Any, **kwargs: Any) -> None:
        with connection.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO testapp_tag (name) VALUES (%s)", [("a",), ("b",), ("c",)]
            )

    with connected(insert_many, sender=Author), record_signals() as recording:
        Author.objects.create(name="a")
    assert only_call(recording, "insert_many").queries == 1
    assert Tag.objects.count() == 3


def test_results_of_queries_are_the_same_while_recording() -> None:
    Book.objects.bulk_create([Book(title=f"t{i}") for i in range(3)])
    plain = list(Book.objects.order_by("title").values_list("title", flat=True))
    with connected(quiet, sender=Author), record_signals():
        recorded = list(Book.objects.order_by("title").values_list("title", flat=True))
    assert recorded == plain


def test_finding_problems_runs_no_query(django_assert_num_queries: Any) -> None:
    Author.objects.create(name="a")
    with connected(titles_one_by_one, sender=Author), record_signals() as recording:
        author = Author.objects.get()
        Book.objects.bulk_create([Book(title=f"t{i}", author=author) for i in range(6)])
        author.save()
    with django_assert_num_queries(0):
        assert recording.problems


@pytest.mark.django_db(transaction=True)
async def test_queries_of_an_async_receiver_are_counted_on_its_call() -> None:
    async def counts(sender: Any, **kwargs: Any) -> None:
        await Book.objects.acount()
        await Book.objects.filter(title="x").aexists()

    signal = Signal()
    signal.connect(counts, weak=False)
    with record_signals() as recording:
        await signal.asend(sender=None)
    assert only_call(recording, "counts").queries == 2


# -- on_commit ---------------------------------------------------------------------------------


def test_on_commit_callbacks_registered_by_a_receiver_are_counted() -> None:
    with connected(registers_callbacks, sender=Author), record_signals() as recording:
        Author.objects.create(name="a")
    assert only_call(recording, "registers_callbacks").on_commit == 2


def test_on_commit_callbacks_still_run_on_commit(
    django_capture_on_commit_callbacks: Any,
) -> None:
    ran.clear()
    with (
        connected(registers_callbacks, sender=Author),
        record_signals(),
        django_capture_on_commit_callbacks(execute=True) as callbacks,
    ):
        Author.objects.create(name="a")
        assert ran == []  # deferred until the commit, as without recording
    assert len(callbacks) == 2
    assert ran == ["first", "second"]


@pytest.mark.django_db(transaction=True)
def test_on_commit_outside_a_transaction_still_runs_at_once() -> None:
    ran.clear()
    with connected(registers_callbacks, sender=Author), record_signals() as recording:
        Author.objects.create(name="a")
        assert ran == ["first", "second"]
    assert only_call(recording, "registers_callbacks").on_commit == 2


def test_a_receiver_without_on_commit_callbacks_has_none() -> None:
    with connected(quiet, sender=Author), record_signals() as recording:
        Author.objects.create(name="a")
    assert only_call(recording, "quiet").on_commit == 0


# -- Send.in_atomic ----------------------------------------------------------------------------


def post_save_of(recording: Any, model: type) -> Any:
    sends = [
        send
        for send in recording.sends
        if send.signal is post_save and send.sender == model._meta.label
    ]
    assert len(sends) == 1
    return sends[0]


@pytest.mark.django_db(transaction=True)
def test_a_send_outside_atomic_says_so() -> None:
    with record_signals() as recording:
        Author.objects.create(name="a")
    assert post_save_of(recording, Author).in_atomic is False


@pytest.mark.django_db(transaction=True)
def test_a_send_inside_atomic_says_so() -> None:
    with record_signals() as recording, transaction.atomic():
        Author.objects.create(name="a")
    assert post_save_of(recording, Author).in_atomic is True


@pytest.mark.django_db(transaction=True, databases=["default", "other"])
def test_in_atomic_is_about_the_database_the_send_names() -> None:
    with record_signals() as recording, transaction.atomic(using="default"):
        Author.objects.using("other").create(name="a")
    assert connections["default"].in_atomic_block is False
    assert post_save_of(recording, Author).in_atomic is False


@pytest.mark.django_db(transaction=True)
async def test_in_atomic_is_read_in_async_code_too() -> None:
    signal = Signal()
    with record_signals() as recording:
        await signal.asend(sender=None, using="default")
    assert recording.sends[0].in_atomic is False


def test_in_atomic_is_read_in_another_thread_from_its_own_connection() -> None:
    # The test runs inside a transaction on this thread; a new thread has its own connection.
    signal = Signal()
    results: list[Any] = []

    def send() -> None:
        with record_signals() as recording:
            signal.send(sender=None, using="default")
        results.append(recording.sends[0].in_atomic)
        connections.close_all()

    with record_signals() as here:
        signal.send(sender=None, using="default")
    thread = threading.Thread(target=send)
    thread.start()
    thread.join()
    assert here.sends[0].in_atomic is True
    assert results == [False]


def test_a_send_without_a_database_has_in_atomic_none() -> None:
    signal = Signal()
    with record_signals() as recording:
        signal.send(sender=None, value=1)
    assert recording.sends[0].in_atomic is None


def test_a_using_that_names_no_database_gives_in_atomic_none() -> None:
    signal = Signal()
    with record_signals() as recording:
        signal.send(sender=None, using="no-such-alias")
    assert recording.sends[0].in_atomic is None


# -- repeated_query ----------------------------------------------------------------------------


def n_plus_one_recording(books: int) -> Any:
    author = Author.objects.create(name="a")
    Book.objects.bulk_create([Book(title=f"t{i}", author=author) for i in range(books)])
    with connected(titles_one_by_one, sender=Author), record_signals() as recording:
        author.save()
    return recording


def test_a_receiver_repeating_a_query_is_a_likely_n_plus_one() -> None:
    recording = n_plus_one_recording(6)
    [problem] = [p for p in recording.problems if p.kind == "repeated_query"]
    assert problem.details["count"] == 6
    assert "titles_one_by_one ran the same query 6 times" in problem.message
    assert "testapp_book" in problem.details["sql"]
    assert problem.calls == [only_call(recording, "titles_one_by_one")]


def test_repeating_a_query_fewer_times_than_the_threshold_is_no_problem() -> None:
    recording = n_plus_one_recording(4)
    assert [p for p in recording.problems if p.kind == "repeated_query"] == []


def test_the_threshold_is_a_setting(settings: Any) -> None:
    settings.SIGNAL_PANEL = {"REPEATED_QUERY_THRESHOLD": 3}
    recording = n_plus_one_recording(3)
    assert [p.details["count"] for p in recording.problems if p.kind == "repeated_query"] == [3]


def test_in_lists_of_any_length_are_one_query_shape() -> None:
    with connected(in_lists, sender=Author), record_signals() as recording:
        Author.objects.create(name="a")
    [problem] = [p for p in recording.problems if p.kind == "repeated_query"]
    assert problem.details["count"] == 6
    assert "IN (…)" in problem.details["sql"]


def test_calls_of_one_receiver_repeating_a_query_are_one_problem() -> None:
    author = Author.objects.create(name="a")
    Book.objects.bulk_create([Book(title=f"t{i}", author=author) for i in range(5)])
    with connected(titles_one_by_one, sender=Author), record_signals() as recording:
        author.save()
        author.save()
    [problem] = [p for p in recording.problems if p.kind == "repeated_query"]
    assert len(problem.calls) == 2
    assert "(in 2 calls)" in problem.message


def test_query_shape_keeps_everything_but_in_lists() -> None:
    assert query_shape('SELECT 1 FROM "t" WHERE "id" IN (%s, %s, %s)') == (
        'SELECT 1 FROM "t" WHERE "id" IN (…)'
    )
    assert query_shape('SELECT 1 FROM "t" WHERE "id" = %s') == 'SELECT 1 FROM "t" WHERE "id" = %s'
