"""The recording as ``generate_stats`` stores it (``signal_panel.frozen``) and the panel built
from it later (``stats.expand``): the same panel as one built from the live recording, strict
JSON, and no secret in the store."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models.signals import post_save, pre_save

from signal_panel import record_signals, stats
from signal_panel.recording import Recording
from signal_panel.stats import expand, stored_stats
from tests.testapp.models import Author, Tag
from tests.testapp.signals import book_published

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def no_slow_receivers(settings: Any) -> None:
    settings.SIGNAL_PANEL = {"SLOW_RECEIVER_MS": 10_000}


def stamp(sender: Any, instance: Author, **kwargs: Any) -> str:
    return "stamped"  # a pre_save receiver's return value: ignored by Django


def publish(sender: Any, instance: Author, created: bool, **kwargs: Any) -> None:
    transaction.on_commit(lambda: None)
    book_published.send_robust(sender=Author, author=instance, title=f"by {instance.name}")
    if len(instance.name) < 5:
        instance.name += "!"
        instance.save()


def failing(sender: Any, **kwargs: Any) -> None:
    raise RuntimeError("boom")


def noop(sender: Any, **kwargs: Any) -> None:
    return None


def busy_page(connect: Callable[..., None]) -> Recording:
    """Nested sends, a swallowed error, on_commit callbacks, a recursion, a returned value, a
    folded quiet run and a folded busy run."""
    connect(pre_save, stamp, sender=Author)
    connect(post_save, publish, sender=Author)
    connect(book_published, failing)
    connect(post_save, noop, sender=Tag)
    with record_signals() as recording:
        with transaction.atomic():
            Author.objects.create(name="Ann")
        Author.objects.create(name="Bob")
        list(Author.objects.all())  # post_init per row: a quiet run
        for number in range(12):
            Tag.objects.create(name=f"tag {number}")  # alike sends whose receivers returned
    return recording


def test_the_panel_built_from_the_store_is_the_one_built_from_the_recording(
    connect: Callable[..., None], monkeypatch: pytest.MonkeyPatch
) -> None:
    recording = busy_page(connect)
    stored = stored_stats(recording)
    from_store = expand(json.loads(json.dumps(stored, allow_nan=False)))
    monkeypatch.setattr(stats, "FREEZE_ROWS", 0)  # what a recording too large to freeze gets
    built = stored_stats(recording)
    assert ("recording" in stored, "recording" in built) == (True, False)
    from_recording = expand(built)
    kinds = {problem["kind"] for problem in from_store["problems"]}
    assert {"recursion", "swallowed_error", "ignored_return"} <= kinds
    assert {row["type"] for row in from_store["timeline"]} >= {"send", "call", "run", "runcall"}
    assert from_store == from_recording


def test_a_recording_stored_by_another_version_is_said_to_be_so_not_raised(
    connect: Callable[..., None],
) -> None:
    from signal_panel.panels import render_content

    recording = busy_page(connect)
    stored = json.loads(json.dumps(stored_stats(recording)))
    frozen = stored["recording"]
    older = {**stored, "recording": {**frozen, "format": frozen["format"] - 1}}
    damaged = {**stored, "recording": {**frozen, "sends": [[0]]}}
    notice = "stored by another version of django-signal-panel (or is damaged)"
    for kept in (older, damaged):
        html = render_content(kept)
        assert notice in html
        assert "No problems found." not in html
        assert "No signals were sent" not in html
        assert f"<strong>{stored['send_count']}</strong> sends" in html
    assert notice not in render_content(stored)


def test_a_large_recording_is_stored_built(
    connect: Callable[..., None], monkeypatch: pytest.MonkeyPatch
) -> None:
    recording = busy_page(connect)
    rows = len(recording.send_rows) + len(recording.call_rows)
    monkeypatch.setattr(stats, "FREEZE_ROWS", rows - 1)
    stored = stored_stats(recording)
    assert ("recording" in stored, len(stored["timeline"]) > 0) == (False, True)
    assert expand(stored)["timeline"] is stored["timeline"]  # nothing is built again


def test_the_store_holds_no_secret_and_the_panel_shows_the_mask() -> None:
    with record_signals() as recording:
        User(username="ann", password="pw-plain-789")
        book_published.send(
            sender=None,
            password="hunter2-secret",
            payload={"accessToken": "tok-123", "nested": {"api_key": "k-456"}, "page": 3},
            items=[{"sessionKey": "sess-999"}],
        )
    stored = json.dumps(stored_stats(recording))
    assert [
        secret
        for secret in ("pw-plain-789", "hunter2-secret", "tok-123", "k-456", "sess-999")
        if secret in stored
    ] == []
    [send] = [
        row for row in expand(json.loads(stored))["timeline"] if row["signal"] == "book_published"
    ]
    assert "'page': 3" in send["kwargs"]
    assert send["kwargs"].count("****") >= 3


def test_values_json_cannot_hold_are_stored_as_their_text() -> None:
    with record_signals() as recording:
        book_published.send(
            sender=None,
            raw=b"\x00\xffbytes",
            number=complex(1, 2),
            ratio=math.inf,
            missing=math.nan,
            long=b"x" * 500,
            mixed=(1.5, b"\x01", {"k": complex(0, 1)}),
        )
    stored = json.dumps(stored_stats(recording), allow_nan=False)  # strict JSON
    [live] = recording.sends
    [row] = [row for row in expand(json.loads(stored))["timeline"] if row["type"] == "send"]
    assert row["kwargs"] == ", ".join(f"{key}={value}" for key, value in live.kwargs.items())
