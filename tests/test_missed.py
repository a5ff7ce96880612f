"""Why a receiver did not run: related senders, collected receivers, bypassed ones, and modules
of receivers never imported (signal_panel.missed, the receiver_not_run problem, W002)."""

from __future__ import annotations

import gc
import importlib
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core import checks
from django.db.models.signals import post_save, pre_save
from django.dispatch import Signal
from django.test import override_settings

from signal_panel import record_signals
from signal_panel.missed import misses, unimported_receiver_modules
from tests.testapp.models import Author, Book, FeaturedBook, Note, Place, Restaurant, Stamped

pytestmark = pytest.mark.django_db

HERE = "tests.test_missed"


def for_book(sender: Any, **kwargs: Any) -> None:
    pass


def for_featured(sender: Any, **kwargs: Any) -> None:
    pass


def for_place(sender: Any, **kwargs: Any) -> None:
    pass


def for_restaurant(sender: Any, **kwargs: Any) -> None:
    pass


def for_stamped(sender: Any, **kwargs: Any) -> None:
    pass


def for_any_sender(sender: Any, **kwargs: Any) -> None:
    pass


CONNECTIONS = [
    (post_save, for_book, Book),
    (post_save, for_featured, FeaturedBook),
    (post_save, for_place, Place),
    (post_save, for_restaurant, Restaurant),
    (post_save, for_stamped, Stamped),
]


@pytest.fixture
def connected() -> Iterator[None]:
    for signal, receiver, sender in CONNECTIONS:
        signal.connect(receiver, sender=sender, weak=False)
    yield
    for signal, receiver, sender in CONNECTIONS:
        signal.disconnect(receiver, sender=sender)


def not_run(recording: Any) -> list[Any]:
    return [p for p in recording.problems if p.kind == "receiver_not_run"]


def about(recording: Any, receiver: str) -> list[Any]:
    return [m for m in misses(recording) if m.receiver == f"{HERE}.{receiver}"]


def test_misses_of_a_finished_recording_are_found_once() -> None:
    post_save.connect(for_book, sender=Book, weak=False)
    try:
        with record_signals() as recording:
            FeaturedBook.objects.create(title="Dune")
        first = misses(recording)
        again = misses(recording)
        assert again == first
        assert [a is b for a, b in zip(again, first, strict=True)] == [True] * len(first)
    finally:
        post_save.disconnect(for_book, sender=Book)


def test_misses_of_a_finished_recording_are_found_anew_after_a_connection() -> None:
    post_save.connect(for_book, sender=Book, weak=False)
    try:
        with record_signals() as recording:
            FeaturedBook.objects.create(title="Dune")
        [first] = about(recording, "for_book")
        post_save.connect(for_any_sender, weak=False)
        post_save.disconnect(for_any_sender)
        [again] = about(recording, "for_book")
        assert again == first
        assert again is not first
    finally:
        post_save.disconnect(for_book, sender=Book)


@pytest.mark.usefixtures("connected")
def test_a_receiver_for_a_proxys_concrete_model_does_not_run_for_the_proxy() -> None:
    with record_signals() as recording:
        FeaturedBook.objects.create(title="Dune")
    [problem] = not_run(recording)
    assert problem.message == (
        f"{HERE}.for_book did not run for post_save from "
        "testapp.FeaturedBook: it is connected for testapp.Book, the concrete model of the proxy "
        "testapp.FeaturedBook (a proxy sends as itself), and Django sent post_save for "
        "testapp.FeaturedBook only: a receiver runs only for the exact sender class it was "
        "connected for. Connect it for testapp.FeaturedBook too, or for no sender and check the "
        "class"
    )
    assert problem.details["reason"] == "related_sender"
    assert problem.details["connected_for"] == "testapp.Book"
    assert problem.locations == [f"tests/test_missed.py:{_connect_line()}"]
    assert [send.sender for send in problem.sends] == ["testapp.FeaturedBook"]


def _connect_line() -> int:
    import inspect

    lines, start = inspect.getsourcelines(connected.__wrapped__)  # type: ignore[attr-defined]
    return start + next(i for i, text in enumerate(lines) if ".connect(" in text)


@pytest.mark.usefixtures("connected")
def test_a_receiver_for_a_multi_table_parent_does_not_run_for_the_child() -> None:
    with record_signals() as recording:
        Restaurant.objects.create(name="Chez Ann")
    [problem] = not_run(recording)
    assert problem.details["receiver"] == f"{HERE}.for_place"
    assert "a multi-table parent of testapp.Restaurant, and Django sent post_save for " in (
        problem.message
    )


@pytest.mark.usefixtures("connected")
def test_a_receiver_for_an_abstract_base_never_runs() -> None:
    with record_signals() as recording:
        Note.objects.create(text="hello")
    [problem] = not_run(recording)
    assert problem.details["receiver"] == f"{HERE}.for_stamped"
    assert "an abstract base of testapp.Note (abstract models never send)" in problem.message


@pytest.mark.usefixtures("connected")
def test_receivers_for_a_proxy_or_a_child_are_explained_but_not_problems() -> None:
    with record_signals() as recording:
        Book.objects.create(title="Plain")
        Place.objects.create(name="Plain place")
    assert not_run(recording) == []
    [featured] = about(recording, "for_featured")
    assert (featured.reason, featured.likely) == ("related_sender", False)
    assert featured.relation == "a proxy of testapp.Book"
    assert featured.why == (
        "it is connected for testapp.FeaturedBook, a proxy of testapp.Book: it runs when a "
        "testapp.FeaturedBook is sent for, not a testapp.Book"
    )
    assert not featured.listed
    [restaurant] = about(recording, "for_restaurant")
    assert restaurant.relation == "a multi-table child of testapp.Place"


@pytest.mark.usefixtures("connected")
def test_a_receiver_that_ran_is_not_missed() -> None:
    post_save.connect(for_book, sender=FeaturedBook, weak=False)
    try:
        with record_signals() as recording:
            FeaturedBook.objects.create(title="Dune")
    finally:
        post_save.disconnect(for_book, sender=FeaturedBook)
    assert about(recording, "for_book") == []
    assert not_run(recording) == []


def test_a_receiver_connected_for_any_sender_or_an_unrelated_one_is_not_missed() -> None:
    post_save.connect(for_any_sender, weak=False)
    pre_save.connect(for_book, sender=Author, weak=False)
    try:
        with record_signals() as recording:
            Book.objects.create(title="x")
    finally:
        post_save.disconnect(for_any_sender)
        pre_save.disconnect(for_book, sender=Author)
    assert about(recording, "for_any_sender") == []
    assert about(recording, "for_book") == []


def test_a_receiver_connected_after_the_send_is_not_missed() -> None:
    with record_signals() as recording:
        FeaturedBook.objects.create(title="Dune")
        post_save.connect(for_book, sender=Book, weak=False)
    try:
        assert not_run(recording) == []
    finally:
        post_save.disconnect(for_book, sender=Book)


def test_a_receiver_disconnected_after_the_send_is_still_missed() -> None:
    post_save.connect(for_book, sender=Book, weak=False)
    with record_signals() as recording:
        FeaturedBook.objects.create(title="Dune")
    post_save.disconnect(for_book, sender=Book)
    [problem] = not_run(recording)
    assert problem.details["receiver"] == f"{HERE}.for_book"


@override_settings(SIGNAL_PANEL={"IGNORE_RECEIVERS": ["tests.test_missed.for_*"]})
@pytest.mark.usefixtures("connected")
def test_ignored_receivers_are_not_missed() -> None:
    with record_signals() as recording:
        FeaturedBook.objects.create(title="Dune")
    assert not_run(recording) == []
    assert about(recording, "for_book") == []


def test_ignore_problems_names_a_receiver_not_run() -> None:
    post_save.connect(for_book, sender=Book, weak=False)
    try:
        with (
            override_settings(
                SIGNAL_PANEL={"IGNORE_PROBLEMS": ["receiver_not_run:tests.test_missed.for_book"]}
            ),
            record_signals() as recording,
        ):
            FeaturedBook.objects.create(title="Dune")
        assert not_run(recording) == []
    finally:
        post_save.disconnect(for_book, sender=Book)


def _module(tmp_path: Path, package: str, name: str, source: str) -> None:
    directory = tmp_path / package
    directory.mkdir(exist_ok=True)
    (directory / "__init__.py").write_text("")
    (directory / f"{name}.py").write_text(textwrap.dedent(source))


@pytest.fixture
def importable(tmp_path: Path) -> Iterator[Path]:
    sys.path.insert(0, str(tmp_path))
    before = set(sys.modules)
    yield tmp_path
    sys.path.remove(str(tmp_path))
    for name in set(sys.modules) - before:
        del sys.modules[name]


def test_a_sender_class_from_a_module_imported_under_two_names(importable: Path) -> None:
    _module(
        importable,
        "twinpkg",
        "services",
        """
        class Mailer:
            pass
        """,
    )
    sent = Signal()
    first = importlib.import_module("twinpkg.services")
    # The same file, imported again under a longer name (as from a second sys.path entry).
    spec = importlib.util.spec_from_file_location(
        "project.twinpkg.services", importable / "twinpkg" / "services.py"
    )
    assert spec is not None
    assert spec.loader is not None
    second = importlib.util.module_from_spec(spec)
    sys.modules["project.twinpkg.services"] = second
    spec.loader.exec_module(second)
    sent.connect(for_book, sender=first.Mailer, weak=False)
    with record_signals() as recording:
        sent.send(sender=second.Mailer)
    [problem] = not_run(recording)
    assert problem.details["connected_for"] == "twinpkg.services.Mailer"
    assert "the same class imported under another module name" in problem.message
    assert problem.details["sender"] == "project.twinpkg.services.Mailer"


@override_settings(DEBUG=False)
def test_a_weak_receiver_collected_after_start_up_is_reported(importable: Path) -> None:
    _module(
        importable,
        "lostpkg",
        "receivers",
        """
        from django.dispatch import Signal

        page_published = Signal()

        def connect_all():
            def update_search_index(sender, **kwargs):
                pass

            page_published.connect(update_search_index)

        connect_all()
        """,
    )
    module = importlib.import_module("lostpkg.receivers")
    gc.collect()
    with record_signals() as recording:
        module.page_published.send(sender=None)
    [problem] = not_run(recording)
    assert problem.details["reason"] == "collected"
    assert problem.details["receiver"] == (
        "lostpkg.receivers.connect_all.<locals>.update_search_index"
    )
    assert problem.details["connected_at"].endswith("lostpkg/receivers.py:10")
    assert "garbage-collected before this send" in problem.message


@override_settings(DEBUG=False)
def test_a_weak_receiver_connected_by_the_program_later_is_explained_only() -> None:
    def on_the_fly(sender: Any, **kwargs: Any) -> None:
        pass

    post_save.connect(on_the_fly, sender=Author)
    del on_the_fly
    gc.collect()
    with record_signals() as recording:
        Author.objects.create(name="Ann")
    assert not_run(recording) == []
    name = "test_a_weak_receiver_connected_by_the_program_later_is_explained_only"
    [miss] = about(recording, f"{name}.<locals>.on_the_fly")
    assert (miss.reason, miss.likely) == ("collected", False)


def test_a_bypassed_receiver_is_explained_with_the_bulk_operation() -> None:
    post_save.connect(for_book, sender=Book, weak=False)
    try:
        with record_signals() as recording:
            Book.objects.bulk_create([Book(title="a"), Book(title="b")])
    finally:
        post_save.disconnect(for_book, sender=Book)
    [miss] = about(recording, "for_book")
    assert miss.reason == "bypassed"
    assert miss.why.startswith("bulk_create() of 2 rows at tests/test_missed.py:")
    assert miss.why.endswith(" wrote rows without sending pre_save or post_save")
    assert miss.signal == "post_save"


def test_a_receiver_bypassed_twice_is_one_miss_naming_both_operations() -> None:
    post_save.connect(for_book, sender=Book, weak=False)
    pre_save.connect(for_featured, sender=Book, weak=False)
    try:
        with record_signals() as recording:
            Book.objects.bulk_create([Book(title="a")])
            Book.objects.update(title="b")
    finally:
        post_save.disconnect(for_book, sender=Book)
        pre_save.disconnect(for_featured, sender=Book)
    [book] = about(recording, "for_book")
    assert book.signal == "post_save"
    assert book.why.startswith("bulk_create() of 1 row at ")
    assert "; update() of 1 row at " in book.why
    [featured] = about(recording, "for_featured")
    assert featured.signal == "pre_save"
    assert featured.listed


def test_a_receivers_module_never_imported_is_found_once() -> None:
    [module] = unimported_receiver_modules()
    assert (module.app, module.module) == ("forgetful", "tests.forgetful.receivers")
    assert module.receivers == (("remember_author", "post_save"),)
    assert unimported_receiver_modules() is unimported_receiver_modules()
    with record_signals() as recording:
        Author.objects.create(name="Ann")
    [miss] = [m for m in misses(recording) if m.reason == "never_connected"]
    assert miss.receiver == "remember_author"
    assert "tests.forgetful.receivers (tests/forgetful/receivers.py) was never imported" in miss.why
    assert not_run(recording) == []  # said once per process: by the check and the registry


def test_the_system_check_warns_about_a_receivers_module_never_imported() -> None:
    messages = [m for m in checks.run_checks() if m.id == "signal_panel.W002"]
    assert [m.msg for m in messages] == [
        "tests.forgetful.receivers (tests/forgetful/receivers.py) defines receivers "
        "(remember_author) but was never imported, so none of them is connected."
    ]
    assert "import tests.forgetful.receivers" in str(messages[0].hint)


def test_deleting_a_child_runs_the_parents_delete_receivers_so_none_is_missed() -> None:
    from django.db.models.signals import pre_delete

    pre_delete.connect(for_place, sender=Place, weak=False)
    try:
        restaurant = Restaurant.objects.create(name="Chez Ann")
        with record_signals() as recording:
            restaurant.delete()
    finally:
        pre_delete.disconnect(for_place, sender=Place)
    assert [c.send.sender for c in recording.calls if c.receiver_name.endswith("for_place")] == [
        "testapp.Place"
    ]
    assert about(recording, "for_place") == []
    assert not_run(recording) == []
