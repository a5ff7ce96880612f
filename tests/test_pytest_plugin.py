"""The pytest plugin: the ``signal_recording`` fixture, registered through the entry point.

The tests that check what a pytest run prints run pytest in a subprocess (``pytester``) on the
test project's settings, so the plugin is loaded exactly as in a user's project: by its entry point.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db.models.signals import post_save
from django.dispatch import Signal

from signal_panel.testing import Muting, SignalRecording
from tests.testapp.models import Author, Book

ROOT = Path(__file__).resolve().parent.parent
placed = Signal()

# The generated test module: a receiver that creates a Book for each new Author.
HEADER = """
import pytest
from django.db.models.signals import post_save
from tests.testapp.models import Author, Book


def add_book(sender, instance, created, **kwargs):
    if created:
        Book.objects.create(title="First", author=instance)


@pytest.fixture
def receiver():
    post_save.connect(add_book, sender=Author, weak=False, dispatch_uid="generated")
    yield
    post_save.disconnect(sender=Author, dispatch_uid="generated")
"""


def add_book(sender: Any, instance: Author, created: bool, **kwargs: Any) -> None:
    if created:
        Book.objects.create(title="First", author=instance)


@pytest.fixture
def author_receiver() -> Iterator[None]:
    post_save.connect(add_book, sender=Author, weak=False, dispatch_uid="test_plugin.add_book")
    yield
    post_save.disconnect(sender=Author, dispatch_uid="test_plugin.add_book")


def note(sender: Any, **kwargs: Any) -> None:
    noted.append(sender)


noted: list[Any] = []


@pytest.fixture
def placed_receiver() -> Iterator[list[Any]]:
    noted.clear()
    placed.connect(note, weak=False, dispatch_uid="test_plugin.note")
    yield noted
    placed.disconnect(dispatch_uid="test_plugin.note")


@pytest.fixture
def project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    monkeypatch.setenv("DJANGO_SETTINGS_MODULE", "tests.settings")
    return pytester


def _run(project: pytest.Pytester, body: str) -> pytest.RunResult:
    project.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    project.makepyfile(test_generated=HEADER + body)
    return project.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:logging")


# -- in this process ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_fixture_records_what_the_test_does(
    author_receiver: None, signal_recording: SignalRecording
) -> None:
    Author.objects.create(name="Ann")

    signal_recording.assert_sent(post_save, sender=Author, times=1)
    signal_recording.assert_sent(post_save, sender=Book, times=1)
    signal_recording.assert_received(add_book, times=1)


def test_the_fixture_is_recording_while_the_test_runs(signal_recording: SignalRecording) -> None:
    assert signal_recording.recording.active


async def test_the_fixture_records_an_async_test(signal_recording: SignalRecording) -> None:
    await placed.asend(sender=None)

    signal_recording.assert_sent(placed, times=1)


@pytest.mark.django_db
def test_the_mute_receivers_fixture_mutes_until_the_test_ends(
    author_receiver: None,
    signal_recording: SignalRecording,
    mute_receivers: Callable[..., Muting],
) -> None:
    muting = mute_receivers(add_book)
    Author.objects.create(name="Ann")

    assert isinstance(muting, Muting)
    assert Book.objects.count() == 0
    signal_recording.assert_sent(post_save, sender=Author, times=1)
    signal_recording.assert_not_received(add_book)


async def test_the_mute_receivers_fixture_mutes_in_an_async_test(
    placed_receiver: list[Any], mute_receivers: Callable[..., Muting]
) -> None:
    mute_receivers("tests.test_pytest_plugin.note", signal=placed)
    await placed.asend(sender=None)

    assert placed_receiver == []


@pytest.mark.django_db
def test_the_fixture_mutes_for_a_block(
    author_receiver: None, signal_recording: SignalRecording
) -> None:
    with signal_recording.mute(add_book):
        Author.objects.create(name="Ann")
    Author.objects.create(name="Bea")

    assert Book.objects.count() == 1
    signal_recording.assert_received(add_book, times=1)
    signal_recording.assert_order((post_save, Author), (post_save, Author), add_book)
    with pytest.raises(AssertionError, match="did not happen after"):
        signal_recording.assert_order(add_book, (post_save, Author), (post_save, Author))


def test_loading_the_plugin_imports_nothing_beyond_the_package() -> None:
    # What importing ``signal_panel`` itself costs is the package's business; the plugin adds no
    # import of its own (the assertions and the text tree come with the fixture).
    code = (
        "import sys\n"
        "import pytest\n"
        "import signal_panel\n"
        "before = set(sys.modules)\n"
        "import signal_panel.pytest_plugin\n"
        "print(sorted(set(sys.modules) - before))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )

    assert result.stdout.strip() == "['signal_panel.pytest_plugin']"


# -- in a pytest run of its own -----------------------------------------------------------------


def test_the_entry_point_provides_the_fixture(project: pytest.Pytester) -> None:
    result = _run(
        project,
        """
@pytest.mark.django_db
def test_saves(receiver, signal_recording):
    Author.objects.create(name="Ann")
    signal_recording.assert_sent(post_save, sender=Author, times=1)
    signal_recording.assert_received(add_book, times=1)
    signal_recording.assert_no_problems(ignore=["slow_receiver"])
""",
    )

    result.assert_outcomes(passed=1)


def test_a_failing_assertion_prints_what_was_expected_and_the_tree(
    project: pytest.Pytester,
) -> None:
    result = _run(
        project,
        """
@pytest.mark.django_db
def test_saves_twice(receiver, signal_recording):
    Author.objects.create(name="Ann")
    signal_recording.assert_sent(post_save, sender=Author, times=2)
""",
    )

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "E * signal_panel.testing.SignalAssertionError: Expected "
            "django.db.models.signals.post_save with sender=testapp.Author to be sent 2 times; "
            "it was sent 1 time.",
            "E * It was sent with other senders: testapp.Book (1).",
            "E * What was recorded:",
            "E * Signals: 8 sends, 1 receiver call (*)",
            "E * post_save(sender=testapp.Author, instance=<testapp.Author pk=*>, created=True, *",
            "E * └─ test_generated.add_book  * ms*",
            "E *    └─ post_save(sender=testapp.Book, *",
            "E * No problems found.",
        ]
    )
    # The tree is in the message; the report does not repeat it in a section.
    result.stdout.no_fnmatch_line("*Captured signals*")


def test_the_tree_is_printed_when_a_test_using_the_fixture_fails_otherwise(
    project: pytest.Pytester,
) -> None:
    result = _run(
        project,
        """
@pytest.mark.django_db
def test_expects_two_books(receiver, signal_recording):
    Author.objects.create(name="Ann")
    assert Book.objects.count() == 2
""",
    )

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*- Captured signals -*",
            "Signals: 8 sends, 1 receiver call (*)",
            "post_save(sender=testapp.Author, *",
            "└─ test_generated.add_book  *",
        ]
    )


def test_a_test_without_the_fixture_gets_no_tree(project: pytest.Pytester) -> None:
    result = _run(
        project,
        """
@pytest.mark.django_db
def test_expects_two_books(receiver):
    Author.objects.create(name="Ann")
    assert Book.objects.count() == 2
""",
    )

    result.assert_outcomes(failed=1)
    result.stdout.no_fnmatch_line("*Captured signals*")


def test_the_recording_stops_with_the_test(project: pytest.Pytester) -> None:
    result = _run(
        project,
        """
from signal_panel.tracking import is_recording_anywhere


def test_records(signal_recording):
    assert is_recording_anywhere()


def test_after():
    assert not is_recording_anywhere()
""",
    )

    result.assert_outcomes(passed=2)


def test_the_receivers_come_back_after_the_test(project: pytest.Pytester) -> None:
    result = _run(
        project,
        """
from django.db.models.signals import pre_save


@pytest.mark.django_db
def test_muted(receiver, mute_receivers):
    mute_receivers(add_book)
    mute_receivers("test_generated.add_book")  # muted already: stays muted
    Author.objects.create(name="Ann")
    assert Book.objects.count() == 0
    assert len(post_save.receivers) == before - 1


@pytest.mark.django_db
def test_not_muted(receiver):
    Author.objects.create(name="Ann")
    assert Book.objects.count() == 1
    assert len(post_save.receivers) == before


before = None


@pytest.fixture(autouse=True)
def count_receivers(receiver):
    global before
    before = len(post_save.receivers)
""",
    )

    result.assert_outcomes(passed=2)


def test_muting_a_receiver_not_connected_fails_the_test(project: pytest.Pytester) -> None:
    result = _run(
        project,
        """
def test_muted(receiver, mute_receivers):
    mute_receivers("test_generated.add_boo", signal=post_save)
""",
    )

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "E * signal_panel.testing.ReceiverNotConnectedError: Cannot mute "
            "test_generated.add_boo: not connected to django.db.models.signals.post_save.",
            "E * Connected, with a close name: test_generated.add_book "
            "(to django.db.models.signals.post_save).",
        ]
    )


def test_the_plugin_can_be_disabled(project: pytest.Pytester) -> None:
    project.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    project.makepyfile(test_generated="def test_uses(signal_recording):\n    pass\n")

    result = project.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:signal_panel")

    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*fixture 'signal_recording' not found*"])
