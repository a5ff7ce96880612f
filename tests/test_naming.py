"""Bad and unusual inputs: every kind of receiver, sender and kwarg is described safely."""

from __future__ import annotations

import asyncio
import functools
import inspect
from collections.abc import Iterator
from typing import Any
from unittest import mock

import pytest
from django.db.models.signals import post_save, pre_save
from django.dispatch import Signal
from django.test import override_settings

from signal_panel import record_signals
from signal_panel.naming import describe, receiver_info, sender_label, snapshot
from tests.testapp.models import Author, Book
from tests.testapp.signals import Hooks, book_published

signal = Signal()


@pytest.fixture(autouse=True)
def _disconnect_all() -> Iterator[None]:
    yield
    signal.receivers.clear()
    signal.sender_receivers_cache.clear()


def record_one(receiver: Any, **connect: Any) -> tuple[Any, Any]:
    """Connect ``receiver``, send once recording; return (responses, the ReceiverCall)."""
    signal.connect(receiver, **connect)
    with record_signals() as recording:
        responses = signal.send(sender=None)
    (call,) = recording.sends[0].calls
    return responses, call


def this_line() -> int:
    frame = inspect.currentframe()
    assert frame is not None
    assert frame.f_back is not None
    return frame.f_back.f_lineno


def test_lambda_receiver() -> None:
    receiver = lambda sender, **kwargs: "lambda result"  # noqa: E731
    responses, call = record_one(receiver)
    assert responses == [(receiver, "lambda result")]
    assert call.receiver_name == "tests.test_naming.test_lambda_receiver.<locals>.<lambda>"
    assert call.location.startswith("tests/test_naming.py:")


def test_partial_receiver() -> None:
    def handler(sender: Any, extra: int, **kwargs: Any) -> int:
        return extra

    receiver = functools.partial(handler, extra=7)
    responses, call = record_one(receiver, weak=False)
    assert responses == [(receiver, 7)]
    assert call.receiver_name == (
        "functools.partial(tests.test_naming.test_partial_receiver.<locals>.handler)"
    )


class Handler:
    def on_signal(self, sender: Any, **kwargs: Any) -> str:
        return "bound"

    @staticmethod
    def static(sender: Any, **kwargs: Any) -> str:
        return "static"

    def __call__(self, sender: Any, **kwargs: Any) -> str:
        return "called"


def test_bound_method_receiver() -> None:
    handler = Handler()
    responses, call = record_one(handler.on_signal)
    assert responses == [(handler.on_signal, "bound")]
    assert call.receiver_name == "tests.test_naming.Handler.on_signal"


def test_static_method_receiver() -> None:
    responses, call = record_one(Handler.static)
    assert responses[0][1] == "static"
    assert call.receiver_name == "tests.test_naming.Handler.static"


def test_callable_instance_receiver() -> None:
    handler = Handler()
    responses, call = record_one(handler)
    assert responses == [(handler, "called")]
    assert call.receiver_name == "tests.test_naming.Handler.__call__"
    assert call.location.startswith("tests/test_naming.py:")


def test_builtin_receiver() -> None:
    target: dict[str, Any] = {}
    receiver = target.update
    responses, call = record_one(receiver, weak=False)
    assert responses[0][1] is None
    assert set(target) == {"signal", "sender"}
    assert call.receiver_name == "builtins.dict.update"
    assert call.location == "<built-in>"


def test_mock_receiver() -> None:
    receiver = mock.Mock(name="on_save", return_value="mocked")
    responses, call = record_one(receiver, weak=False)
    assert responses == [(receiver, "mocked")]
    assert receiver.call_count == 1
    assert call.receiver_name == "<Mock name='on_save'>"
    # Describing it did not create attributes on the mock.
    assert receiver.mock_calls == [mock.call(signal=signal, sender=None)]


def test_async_function_and_async_partial_receivers() -> None:
    async def handler(sender: Any, value: int = 1, **kwargs: Any) -> int:
        await asyncio.sleep(0)
        return value

    partial = functools.partial(handler, value=2)
    signal.connect(handler)
    signal.connect(partial, weak=False)
    with record_signals() as recording:
        responses = signal.send(sender=None)
    assert responses == [(handler, 1), (partial, 2)]
    calls = recording.sends[0].calls
    assert [call.is_async for call in calls] == [True, True]
    assert calls[1].receiver_name.startswith("functools.partial(")


def test_a_receiver_whose_attributes_explode_is_still_named() -> None:
    class Weird:
        def __getattr__(self, name: str) -> Any:
            return 42  # answers every attribute, __func__ and __self__ included

        def __call__(self, sender: Any, **kwargs: Any) -> str:
            return "weird"

    receiver = Weird()
    responses, call = record_one(receiver, weak=False)
    assert responses == [(receiver, "weird")]
    assert call.receiver_name.endswith("Weird.__call__")


@pytest.mark.parametrize(
    ("sender", "label"),
    [
        (None, "None"),
        ("a string", "'a string'"),
        (Author, "testapp.Author"),
        (Handler, "tests.test_naming.Handler"),
        (42, "42"),
    ],
)
def test_sender_labels(sender: Any, label: str) -> None:
    def receiver(sender: Any, **kwargs: Any) -> None:
        pass

    signal.connect(receiver)
    with record_signals() as recording:
        signal.send(sender=sender)
    assert recording.sends[0].sender == label


def test_a_model_instance_sender_is_labelled_without_str() -> None:
    author = Author(name="never shown", pk=5)
    assert sender_label(author) == "<testapp.Author pk=5>"


class BadRepr:
    def __repr__(self) -> str:
        raise ValueError("repr is broken")


def test_kwargs_summaries_are_safe() -> None:
    looped: list[Any] = [1, 2]
    looped.append(looped)
    nested: dict[str, Any] = {"a": 1}
    nested["self"] = nested
    with record_signals() as recording:
        signal.send(
            sender=None,
            bad=BadRepr(),
            huge="x" * 100_000,
            looped=looped,
            nested=nested,
            data=b"\x00\x01" * 1000,
            flag=True,
            nothing=None,
        )
    kwargs = recording.sends[0].kwargs
    assert kwargs["bad"] == "<tests.test_naming.BadRepr object>"
    assert kwargs["huge"].endswith("… (100000 chars)")
    assert len(kwargs["huge"]) < 200
    # Mutable containers are copied at send time; the copy holds the original, which holds itself.
    assert kwargs["looped"] == "[1, 2, [1, 2, <list of 3>]]"
    assert kwargs["nested"] == "{'a': 1, 'self': {'a': 1, 'self': <dict of 2>}}"
    assert kwargs["data"].endswith("… (2000 bytes)")
    assert kwargs["flag"] == "True"
    assert kwargs["nothing"] == "None"


def test_secret_looking_kwargs_are_masked() -> None:
    with record_signals() as recording:
        signal.send(sender=None, password="hunter2", api_token="abc", username="ada")
    assert recording.sends[0].kwargs == {
        "password": "********************",
        "api_token": "********************",
        "username": "'ada'",
    }


@override_settings(SIGNAL_PANEL={"SECRET_PATTERN": r"^username$"})
def test_the_secret_pattern_adds_to_what_is_masked() -> None:
    with record_signals() as recording:
        signal.send(sender=None, password="never shown", username="ada", title="shown")
    assert recording.sends[0].kwargs == {
        "password": "********************",
        "username": "********************",
        "title": "'shown'",
    }


@pytest.mark.parametrize(
    "name",
    ["accessToken", "access_token", "ACCESS-TOKEN", "sessionKey", "refreshToken", "Authorization"],
)
def test_secret_names_are_found_in_any_spelling(name: str) -> None:
    with record_signals() as recording:
        signal.send(sender=None, **{name: "s3cr3t"}, data={"nested": {name: "s3cr3t"}})
    shown = recording.sends[0].kwargs
    assert shown[name] == "********************"
    assert "s3cr3t" not in shown["data"]


@pytest.mark.django_db
def test_pre_init_of_a_user_loaded_from_the_database_masks_the_password_hash() -> None:
    from django.contrib.auth.models import User

    User.objects.create_user("ada", password="plain-text-password")
    stored = User.objects.get().password
    with record_signals() as recording:
        User.objects.get(username="ada")
    (pre_init,) = [send for send in recording.sends if send.signal_name.endswith("pre_init")]
    assert stored not in pre_init.kwargs["args"]
    assert "'ada'" not in pre_init.kwargs["args"] or "****" in pre_init.kwargs["args"]
    assert "********************" in pre_init.kwargs["args"]


@override_settings(SIGNAL_PANEL={"SUMMARY_LENGTH": 10})
def test_summary_length_is_configurable() -> None:
    with record_signals() as recording:
        signal.send(sender=None, text="abcdefghijklmnop")
    assert recording.sends[0].kwargs["text"] == "'abcdefghij'… (16 chars)"


@pytest.mark.django_db
def test_model_instances_are_summarised_without_queries_or_str(
    django_assert_num_queries: Any,
) -> None:
    author = Author.objects.create(name="Ada")
    book = Book.objects.create(title="<script>alert(1)</script>", author=author)
    fresh = Book.objects.get(pk=book.pk)  # its author is not loaded: reading it would query
    with django_assert_num_queries(0), record_signals() as recording:
        book_published.send(sender=Book, book=fresh, author=author, books=Book.objects.all())
        kwargs = recording.sends[0].kwargs
    assert kwargs["book"] == f"<testapp.Book pk={book.pk}>"
    # "author" holds AUTH, which Django's exception reporter filter hides: so is it here.
    assert kwargs["author"] == "********************"
    assert kwargs["books"] == "<QuerySet of testapp.Book>"


def test_mutable_kwargs_are_shown_as_they_were_when_sent() -> None:
    values = {"title": "first"}
    items = [1]
    with record_signals() as recording:
        signal.send(sender=None, values=values, items=items)
    values.clear()
    items.append(2)
    assert recording.sends[0].kwargs == {"values": "{'title': 'first'}", "items": "[1]"}


@pytest.mark.django_db
def test_pre_init_shows_the_model_kwargs_it_was_sent() -> None:
    from django.db.models.signals import pre_init

    with record_signals() as recording:
        Author(name="Ada")
    (send,) = [s for s in recording.sends if s.signal is pre_init]
    assert send.kwargs == {"args": "()", "kwargs": "{'name': 'Ada'}"}


@pytest.mark.django_db
def test_pre_save_shows_the_primary_key_the_instance_had_when_sent() -> None:
    with record_signals() as recording:
        Author.objects.create(name="Ada")
    pre, post = [s for s in recording.sends if s.signal in (pre_save, post_save)]
    assert pre.kwargs["instance"] == "<testapp.Author pk=None>"
    assert post.kwargs["instance"].startswith("<testapp.Author pk=")
    assert post.kwargs["instance"] != "<testapp.Author pk=None>"
    assert post.kwargs["created"] == "True"


def test_signal_names() -> None:
    local = Signal()
    with record_signals() as recording:
        for each in (post_save, book_published, Hooks.audited, local):
            each.send(sender=None)
    assert [send.signal_name for send in recording.sends[:3]] == [
        "django.db.models.signals.post_save",
        "tests.testapp.signals.book_published",
        "tests.testapp.signals.Hooks.audited",
    ]
    assert recording.sends[3].signal_name.startswith("<Signal at 0x")
    assert recording.sends[3].signal_name.endswith("from tests.test_naming>")


def test_callsite_is_the_line_that_sent() -> None:
    with record_signals() as recording:
        line = this_line() + 1
        signal.send(sender=None)
    assert recording.sends[0].callsite == (
        f"tests/test_naming.py:{line} in test_callsite_is_the_line_that_sent"
    )


def test_callsites_in_one_function_keep_their_own_lines_when_read_again() -> None:
    with record_signals() as recording:
        first = this_line() + 1
        signal.send(sender=None)
        signal.send(sender=Author)  # another sender: alike sends in a row are kept as one
    name = "test_callsites_in_one_function_keep_their_own_lines_when_read_again"
    expected = [f"tests/test_naming.py:{first + n} in {name}" for n in (0, 1)]
    assert [send.callsite for send in recording.sends] == expected
    assert [send.callsite for send in recording.sends] == expected


@pytest.mark.django_db
def test_callsite_of_a_model_save_is_the_line_that_saved() -> None:
    with record_signals() as recording:
        line = this_line() + 1
        Author.objects.create(name="Ada")
    callsites = {send.callsite for send in recording.sends}
    assert callsites == {
        f"tests/test_naming.py:{line} in test_callsite_of_a_model_save_is_the_line_that_saved"
    }


def test_naming_never_raises_on_hostile_objects() -> None:
    class Hostile:
        def __repr__(self) -> str:
            raise SystemError("repr")

        def __len__(self) -> int:
            raise RuntimeError("len")

    hostile = Hostile()
    # Neither its repr nor its len is called: it is named by its class.
    assert describe(snapshot(hostile, 50), 50).endswith(".Hostile object>")
    assert receiver_info(hostile).name.endswith("Hostile object>")


def test_a_template_sender_is_named_by_its_template() -> None:
    from django.template import engines

    template = engines["django"].from_string("hi").template
    template.name = "shop/cart.html"
    signal.connect(lambda sender, **kwargs: None, weak=False)
    with record_signals() as recording:
        signal.send(sender=template, template=template)
    assert recording.sends[0].sender == "<Template 'shop/cart.html'>"
    assert recording.sends[0].kwargs["template"] == "<Template 'shop/cart.html'>"


def test_modules_hidden_in_stacktraces_are_never_a_call_site(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from signal_panel import naming
    from tests.testapp import senders

    signal.connect(lambda sender, **kwargs: None, weak=False)
    with record_signals() as recording:
        senders.send_for_caller(signal)
    assert recording.sends[0].callsite.startswith("tests/testapp/senders.py:")

    monkeypatch.setattr(naming, "_roots", [])
    monkeypatch.setattr(naming, "_file_kinds", {})
    config = {"HIDE_IN_STACKTRACES": ("tests.testapp.senders",), "IS_RUNNING_TESTS": False}
    with override_settings(DEBUG_TOOLBAR_CONFIG=config), record_signals() as recording:
        line = this_line() + 1
        senders.send_for_caller(signal)
    assert recording.sends[0].callsite.startswith(f"tests/test_naming.py:{line} in ")
