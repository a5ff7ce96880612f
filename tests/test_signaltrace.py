"""``manage.py signaltrace <command> [args...]``."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models.signals import post_save

from tests.testapp.models import Author, Book

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent


def add_book(sender: Any, instance: Author, created: bool, raw: bool, **kwargs: Any) -> None:
    if created and not raw:
        Book.objects.create(title="First", author=instance)


def count_raw(sender: Any, instance: Author, raw: bool, **kwargs: Any) -> None:
    return None


@pytest.fixture
def receiver() -> Iterator[None]:
    post_save.connect(count_raw, sender=Author, weak=False, dispatch_uid="test_signaltrace")
    yield
    post_save.disconnect(sender=Author, dispatch_uid="test_signaltrace")


@pytest.fixture
def fixture_file(tmp_path: Path) -> Path:
    path = tmp_path / "authors.json"
    rows = [
        {"model": "testapp.author", "pk": 1, "fields": {"name": "Ann"}},
        {"model": "testapp.author", "pk": 2, "fields": {"name": "Bea"}},
    ]
    path.write_text(json.dumps(rows), encoding="utf-8")
    return path


def _trace(*args: Any) -> str:
    out = io.StringIO()
    call_command("signaltrace", *args, stdout=out)
    return out.getvalue()


def test_prints_the_signals_the_command_sent(receiver: None, fixture_file: Path) -> None:
    output = _trace("loaddata", str(fixture_file), "--verbosity", "0")
    lines = output.splitlines()

    assert lines[0].startswith("Signals: ")
    raw_saves = [line for line in lines if line.startswith("post_save(sender=testapp.Author, ")]
    assert len(raw_saves) == 2
    assert all("raw=True" in line for line in raw_saves)
    assert sum(line.startswith("└─ tests.test_signaltrace.count_raw  ") for line in lines) == 2


def test_ends_with_the_problems() -> None:
    post_save.connect(add_book, sender=Author, weak=False, dispatch_uid="test_signaltrace.a")
    post_save.connect(add_book, sender=Author, weak=False, dispatch_uid="test_signaltrace.b")
    try:
        output = _trace("shell", "-c", "Author.objects.create(name='Cy')")
    finally:
        post_save.disconnect(sender=Author, dispatch_uid="test_signaltrace.a")
        post_save.disconnect(sender=Author, dispatch_uid="test_signaltrace.b")
    problems = output.rsplit("\n\n", 1)[1].splitlines()

    assert problems[0].startswith("Problems (")
    assert any(
        line.startswith(
            "  duplicate_receiver: tests.test_signaltrace.add_book is connected 2 times"
        )
        for line in problems
    )


def test_the_commands_own_options_go_to_the_command(
    fixture_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _trace("loaddata", str(fixture_file), "--verbosity", "0")
    quiet = capsys.readouterr().out
    _trace("loaddata", str(fixture_file))
    talkative = capsys.readouterr().out

    assert "Installed 2 object(s)" not in quiet
    assert "Installed 2 object(s) from 1 fixture(s)" in talkative


def test_the_command_really_ran(fixture_file: Path) -> None:
    _trace("loaddata", str(fixture_file), "--verbosity", "0")

    assert sorted(Author.objects.values_list("name", flat=True)) == ["Ann", "Bea"]


def test_json_holds_the_sends_as_a_tree(receiver: None, fixture_file: Path) -> None:
    data = json.loads(_trace("--json", "loaddata", str(fixture_file), "--verbosity", "0"))
    saves = [send for send in data["sends"] if send["signal"].endswith(".post_save")]

    assert data["command"] == ["loaddata", str(fixture_file), "--verbosity", "0"]
    assert [send["sender"] for send in saves] == ["testapp.Author", "testapp.Author"]
    assert saves[0]["kwargs"]["raw"] == "True"
    assert saves[0]["method"] == "send"
    assert [call["receiver"] for call in saves[0]["calls"]] == ["tests.test_signaltrace.count_raw"]
    assert saves[0]["calls"][0]["sends"] == []
    assert data["truncated"] is False


def test_json_nests_sends_made_inside_receivers() -> None:
    post_save.connect(add_book, sender=Author, weak=False, dispatch_uid="test_signaltrace.nest")
    try:
        data = json.loads(_trace("--json", "shell", "-c", "Author.objects.create(name='Cy')"))
    finally:
        post_save.disconnect(sender=Author, dispatch_uid="test_signaltrace.nest")
    save = next(send for send in data["sends"] if send["signal"].endswith(".post_save"))
    nested = save["calls"][0]["sends"]

    assert save["calls"][0]["receiver"] == "tests.test_signaltrace.add_book"
    assert [send["sender"] for send in nested] == ["testapp.Book"] * 4
    assert nested[-1]["signal"] == "django.db.models.signals.post_save"


def test_json_lists_the_problems() -> None:
    post_save.connect(add_book, sender=Author, weak=False, dispatch_uid="test_signaltrace.a")
    post_save.connect(add_book, sender=Author, weak=False, dispatch_uid="test_signaltrace.b")
    try:
        data = json.loads(_trace("--json", "shell", "-c", "Author.objects.create(name='Cy')"))
    finally:
        post_save.disconnect(sender=Author, dispatch_uid="test_signaltrace.a")
        post_save.disconnect(sender=Author, dispatch_uid="test_signaltrace.b")
    kinds = [problem["kind"] for problem in data["problems"]]

    assert "duplicate_receiver" in kinds
    problem = data["problems"][kinds.index("duplicate_receiver")]
    assert problem["message"].startswith("tests.test_signaltrace.add_book is connected 2 times")
    assert json.loads(json.dumps(problem["details"])) == problem["details"]


def test_json_keeps_stdout_for_the_json(
    fixture_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = _trace("--json", "loaddata", str(fixture_file))
    captured = capsys.readouterr()

    assert json.loads(output)["command"][0] == "loaddata"
    assert "Installed 2 object(s)" not in captured.out
    assert "Installed 2 object(s)" in captured.err


def test_output_writes_the_report_to_a_file(fixture_file: Path, tmp_path: Path) -> None:
    report = tmp_path / "trace.json"

    printed = _trace("--json", "--output", str(report), "loaddata", str(fixture_file))

    assert printed == ""
    assert json.loads(report.read_text(encoding="utf-8"))["command"][0] == "loaddata"


def test_max_calls_limits_what_is_stored(receiver: None, fixture_file: Path) -> None:
    data = json.loads(
        _trace("--json", "--max-calls", "1", "loaddata", str(fixture_file), "--verbosity", "0")
    )

    assert data["truncated"] is True
    assert data["dropped_calls"] == 1


def test_the_tree_is_printed_when_the_command_fails(tmp_path: Path) -> None:
    out = io.StringIO()

    with pytest.raises(CommandError, match="No fixture named"):
        call_command("signaltrace", "loaddata", str(tmp_path / "missing"), stdout=out)

    assert out.getvalue().startswith("Signals: ")


def test_an_unknown_command_is_an_error() -> None:
    with pytest.raises(CommandError, match="Unknown command: 'no_such_command'"):
        _trace("no_such_command")


def test_force_color_colours_the_tree(fixture_file: Path) -> None:
    coloured = _trace("--force-color", "loaddata", str(fixture_file), "--verbosity", "0")
    plain = _trace("loaddata", str(fixture_file), "--verbosity", "0")

    assert "\x1b[" in coloured
    assert "\x1b[" not in plain


def test_runs_from_the_command_line() -> None:
    # A fresh process on an empty in-memory database: migrate's own post_migrate receivers
    # (content types, permissions) are a real command's signals.
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-m", "django", "signaltrace", "--json", "migrate", "--verbosity", "0"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    receivers = {
        call["receiver"]
        for send in data["sends"]
        if send["signal"] == "django.db.models.signals.post_migrate"
        for call in send["calls"]
    }
    assert "django.contrib.auth.management.create_permissions" in receivers


def test_a_failing_command_exits_with_its_error_after_the_tree() -> None:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-m", "django", "signaltrace", "loaddata", "no_such_fixture"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=False,
    )

    assert result.returncode == 1
    assert result.stdout.startswith("Signals: ")
    assert "CommandError: No fixture named 'no_such_fixture' found." in result.stderr
