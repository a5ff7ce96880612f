"""bypassed_receivers: QuerySet.update(), bulk_create() and bulk_update() skip the save signals."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.core.exceptions import FieldDoesNotExist
from django.db.models.signals import post_save, pre_save

from signal_panel import record_signals
from tests.testapp.models import Author, Book, Review, Tag

pytestmark = pytest.mark.django_db

HERE = "tests/test_diagnostics_bulk.py"


def index_book(sender: Any, **kwargs: Any) -> None:
    pass


def check_book(sender: Any, **kwargs: Any) -> None:
    pass


def audit_everything(sender: Any, **kwargs: Any) -> None:
    pass


def bulk_from_a_receiver(sender: Any, **kwargs: Any) -> None:
    Book.objects.bulk_create([Book(title="from a receiver")])


@pytest.fixture
def book_receivers() -> Iterator[None]:
    pre_save.connect(check_book, sender=Book, weak=False)
    post_save.connect(index_book, sender=Book, weak=False)
    yield
    pre_save.disconnect(check_book, sender=Book)
    post_save.disconnect(index_book, sender=Book)


def line() -> str:
    """``file:line`` of the caller's next line."""
    return f"{HERE}:{sys._getframe(1).f_lineno + 1}"


def bypasses(recording: Any) -> list[Any]:
    return [p for p in recording.problems if p.kind == "bypassed_receivers"]


@pytest.mark.usefixtures("book_receivers")
def test_bulk_create_names_the_receivers_it_skipped() -> None:
    with record_signals() as recording:
        Book.objects.bulk_create([Book(title=f"t{i}") for i in range(120)])
    [problem] = bypasses(recording)
    assert problem.message == (
        "bulk_create() of 120 testapp.Book rows: pre_save/post_save receivers "
        "tests.test_diagnostics_bulk.check_book, tests.test_diagnostics_bulk.index_book "
        "were not called"
    )


@pytest.mark.usefixtures("book_receivers")
def test_the_call_site_is_where_the_bulk_operation_was_called() -> None:
    with record_signals() as recording:
        where = line()
        Book.objects.bulk_create([Book(title="a")])
    [problem] = bypasses(recording)
    assert problem.locations == [
        f"{where} in {test_the_call_site_is_where_the_bulk_operation_was_called.__qualname__}"
    ]


@pytest.mark.usefixtures("book_receivers")
def test_update_is_reported_with_the_rows_it_changed() -> None:
    Book.objects.bulk_create([Book(title="a"), Book(title="b"), Book(title="c")])
    with record_signals() as recording:
        Book.objects.filter(title__in=["a", "b"]).update(title="z")
    [problem] = bypasses(recording)
    assert problem.details["operation"] == "update"
    assert problem.details["rows"] == 2
    assert problem.message.startswith("update() of 2 testapp.Book rows:")


@pytest.mark.usefixtures("book_receivers")
def test_bulk_update_is_reported_once_not_per_batch() -> None:
    books = Book.objects.bulk_create([Book(title=f"t{i}") for i in range(5)])
    for book in books:
        book.title = "changed"
    with record_signals() as recording:
        Book.objects.bulk_update(books, ["title"], batch_size=2)
    [problem] = bypasses(recording)
    assert problem.details["operation"] == "bulk_update"
    assert problem.details["rows"] == 5
    assert problem.details["times"] == 1


@pytest.mark.usefixtures("book_receivers")
def test_repeated_operations_from_one_line_are_one_problem() -> None:
    Book.objects.bulk_create([Book(title="a"), Book(title="b")])
    with record_signals() as recording:
        for title in ("a", "b", "a"):
            Book.objects.filter(title=title).update(title=title)
    [problem] = bypasses(recording)
    assert problem.details["times"] == 3
    assert problem.details["rows"] == 3
    assert "update() of 3 testapp.Book rows in 3 calls" in problem.message


@pytest.mark.usefixtures("book_receivers")
def test_an_update_that_changes_no_row_is_no_problem() -> None:
    with record_signals() as recording:
        Book.objects.filter(title="nothing").update(title="x")
        Book.objects.bulk_create([])
    assert bypasses(recording) == []


def test_a_model_without_save_receivers_is_no_problem() -> None:
    with record_signals() as recording:
        Tag.objects.bulk_create([Tag(name="a")])
        Tag.objects.update(name="b")
    assert bypasses(recording) == []


@pytest.mark.usefixtures("book_receivers")
def test_receivers_of_other_models_are_not_listed() -> None:
    with record_signals() as recording:
        Author.objects.bulk_create([Author(name="a")])
    assert bypasses(recording) == []


def test_receivers_for_every_sender_are_not_bypassed() -> None:
    """A receiver connected for any sender is not tied to the model a bulk operation writes."""
    post_save.connect(audit_everything, weak=False)
    try:
        with record_signals() as recording:
            Tag.objects.bulk_create([Tag(name="a")])
    finally:
        post_save.disconnect(audit_everything)
    assert bypasses(recording) == []


def test_many_to_many_add_writes_its_through_rows_without_a_problem() -> None:
    post_save.connect(audit_everything, weak=False)
    try:
        book = Book.objects.create(title="a")
        tag = Tag.objects.create(name="t")
        with record_signals() as recording:
            book.tags.add(tag)  # bulk_create() of Book.tags.through rows; m2m_changed is sent
    finally:
        post_save.disconnect(audit_everything)
    assert list(book.tags.all()) == [tag]
    assert bypasses(recording) == []


@pytest.mark.usefixtures("book_receivers")
def test_ignored_signals_are_left_out(settings: Any) -> None:
    settings.SIGNAL_PANEL = {"IGNORE_SIGNALS": ["django.db.models.signals.pre_save"]}
    with record_signals() as recording:
        Book.objects.bulk_create([Book(title="a")])
    [problem] = bypasses(recording)
    assert problem.details["receivers"] == ["tests.test_diagnostics_bulk.index_book"]


@pytest.mark.usefixtures("book_receivers")
def test_a_bulk_operation_in_a_receiver_names_the_receiver() -> None:
    post_save.connect(bulk_from_a_receiver, sender=Author, weak=False)
    try:
        with record_signals() as recording:
            Author.objects.create(name="a")
    finally:
        post_save.disconnect(bulk_from_a_receiver, sender=Author)
    [problem] = bypasses(recording)
    assert problem.details["inside"] == "tests.test_diagnostics_bulk.bulk_from_a_receiver"


@pytest.mark.usefixtures("book_receivers")
def test_removing_from_a_reverse_foreign_key_is_an_update() -> None:
    author = Author.objects.create(name="a")
    book = Book.objects.create(title="a", author=author)
    with record_signals() as recording:
        where = line()
        author.book_set.remove(book)
    [problem] = bypasses(recording)
    assert problem.details["operation"] == "update"
    assert problem.locations[0].startswith(where)


def test_delete_setting_foreign_keys_to_null_is_not_reported() -> None:
    post_save.connect(audit_everything, sender=Review, weak=False)
    try:
        book = Book.objects.create(title="a")
        Review.objects.create(book=book)
        with record_signals() as recording:
            Book.objects.filter(pk=book.pk).delete()
    finally:
        post_save.disconnect(audit_everything, sender=Review)
    assert Review.objects.get().book is None
    assert bypasses(recording) == []


@pytest.mark.usefixtures("book_receivers")
def test_bulk_operations_return_what_they_return_without_recording() -> None:
    plain_created = Book.objects.bulk_create([Book(title="a"), Book(title="b")])
    plain_updated = Book.objects.filter(title="a").update(title="c")
    for book in plain_created:
        book.title = "d"
    plain_bulk_updated = Book.objects.bulk_update(plain_created, ["title"])
    with record_signals():
        created = Book.objects.bulk_create([Book(title="a"), Book(title="b")])
        updated = Book.objects.filter(title="a").update(title="c")
        for book in created:
            book.title = "e"
        bulk_updated = Book.objects.bulk_update(created, ["title"])
    assert [type(b) for b in created] == [type(b) for b in plain_created]
    assert [b.title for b in created] == ["e", "e"]
    assert all(book.pk is not None for book in created)
    assert (updated, bulk_updated) == (plain_updated, plain_bulk_updated) == (1, 2)
    assert sorted(Book.objects.values_list("title", flat=True)) == ["d", "d", "e", "e"]


@pytest.mark.usefixtures("book_receivers")
def test_bulk_operations_raise_what_they_raise_without_recording() -> None:
    with pytest.raises(FieldDoesNotExist) as plain:
        Book.objects.update(no_such_field=1)
    with record_signals() as recording, pytest.raises(FieldDoesNotExist) as recorded:
        Book.objects.update(no_such_field=1)
    assert str(recorded.value) == str(plain.value)
    assert bypasses(recording) == []


def test_the_replacements_keep_djangos_attributes() -> None:
    from django.db.models import QuerySet

    with record_signals():
        methods = [QuerySet.update, QuerySet.bulk_create, QuerySet.bulk_update, QuerySet.aupdate]
        assert all(getattr(method, "alters_data", False) for method in methods)
        assert [method.__name__ for method in methods] == [
            "update",
            "bulk_create",
            "bulk_update",
            "aupdate",
        ]


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("book_receivers")
async def test_async_bulk_operations_are_reported_where_they_were_awaited() -> None:
    with record_signals() as recording:
        where = line()
        await Book.objects.abulk_create([Book(title="a"), Book(title="b")])
    [problem] = bypasses(recording)
    assert problem.details["rows"] == 2
    assert problem.locations[0].startswith(where)


@pytest.fixture
def library(site_library: Callable[[str, str], Any]) -> Any:
    """A library in site-packages that keeps a count with update(), and has a receiver."""
    return site_library(
        "counterlib.tree",
        "from tests.testapp.models import Book\n\n\n"
        "def touch_all():\n    Book.objects.update(title='touched')\n\n\n"
        "def reindex(sender, **kwargs):\n    pass\n",
    )


def touched_by_the_library(library: Any) -> Any:
    """The recording of the library's own update(), with the library's receiver connected."""
    post_save.connect(library.reindex, sender=Book, weak=False)
    try:
        Book.objects.create(title="x")
        with record_signals() as recording:
            library.touch_all()
    finally:
        post_save.disconnect(library.reindex, sender=Book)
    return recording


def test_a_librarys_own_update_is_not_reported_for_the_librarys_receivers(library: Any) -> None:
    assert bypasses(touched_by_the_library(library)) == []


@pytest.mark.usefixtures("book_receivers")
def test_a_librarys_own_update_is_reported_for_the_projects_receivers(library: Any) -> None:
    [problem] = bypasses(touched_by_the_library(library))
    assert problem.details["receivers"] == [
        "tests.test_diagnostics_bulk.check_book",
        "tests.test_diagnostics_bulk.index_book",
    ]
