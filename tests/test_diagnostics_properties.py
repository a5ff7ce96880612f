"""For every mix of database work a receiver does, recording changes nothing the program sees."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection, transaction
from django.db.models.signals import post_save
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from signal_panel import record_signals
from tests.testapp.models import Author, Book, Tag

pytestmark = pytest.mark.django_db

OPERATIONS = st.sampled_from(
    ["create", "update", "bulk_create", "bulk_update", "raw", "on_commit", "count", "delete"]
)


class Rollback(Exception):
    pass


def run(operation: str, size: int, seen: list[Any]) -> None:
    """One piece of database work; what it returns goes into ``seen``."""
    if operation == "create":
        seen.append(Book.objects.create(title=f"b{size}").pk)
    elif operation == "update":
        seen.append(Book.objects.filter(pk__lte=size).update(title=f"u{size}"))
    elif operation == "bulk_create":
        created = Book.objects.bulk_create([Book(title=f"c{i}") for i in range(size)])
        seen.append([book.pk for book in created])
    elif operation == "bulk_update":
        books = list(Book.objects.order_by("pk")[:size])
        for book in books:
            book.title = f"bu{size}"
        seen.append(Book.objects.bulk_update(books, ["title"]) if books else 0)
    elif operation == "raw":
        with connection.cursor() as cursor:
            cursor.execute("SELECT COUNT(*) FROM testapp_book WHERE id > %s", [size])
            seen.append(cursor.fetchone())
    elif operation == "on_commit":
        transaction.on_commit(lambda: None)
        seen.append(len(connection.run_on_commit))
    elif operation == "count":
        seen.append(Tag.objects.filter(name__in=[str(i) for i in range(size)]).count())
    elif operation == "delete":
        seen.append(Book.objects.filter(pk=size).delete())


def outcome(work: list[tuple[str, int]], record: bool) -> tuple[Any, ...]:
    """Run ``work`` in a post_save receiver of Author, recording or not, and roll it back."""
    seen: list[Any] = []

    def receiver(sender: Any, **kwargs: Any) -> None:
        for operation, size in work:
            run(operation, size, seen)

    post_save.connect(receiver, sender=Author, weak=False)
    try:
        with transaction.atomic():
            if record:
                with record_signals() as recording:
                    Author.objects.create(name="a")
                assert len(recording.calls) == 1
            else:
                Author.objects.create(name="a")
            state = (
                tuple(seen),
                tuple(Book.objects.order_by("pk").values_list("pk", "title")),
                len(connection.run_on_commit),
                list(connection.execute_wrappers),
            )
            raise Rollback
    except Rollback:
        pass
    finally:
        post_save.disconnect(receiver, sender=Author)
    return state


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    st.lists(st.tuples(OPERATIONS, st.integers(min_value=0, max_value=4)), min_size=1, max_size=8)
)
def test_recording_changes_nothing_the_receivers_database_work_sees(
    work: list[tuple[str, int]],
) -> None:
    assert outcome(work, record=True) == outcome(work, record=False)
