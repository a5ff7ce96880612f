"""The everyday scenarios: the recording shows their receivers and how the sends nest."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.core import mail
from django.test import AsyncClient

from signal_panel import record_signals
from tests.demo.visits import Visit, names, saves_in, short

Visitor = Callable[[str], Visit]


# -- Profile on sign-up --------------------------------------------------------------------------


def test_profile_user_post_save_runs_both_receivers(visit: Visitor) -> None:
    page = visit("/profile/")

    sends = page.sends("post_save", sender="auth.User")
    assert [send.kwargs["created"] for send in sends] == ["True", "False"]
    assert all(names(send.calls) == ["create_profile", "save_profile"] for send in sends)


def test_profile_creation_nests_under_create_profile(visit: Visitor) -> None:
    page = visit("/profile/")

    create_profile = page.calls("create_profile")[0]
    saves = saves_in(create_profile)
    assert [(s.signal_name, s.sender) for s in saves] == [
        ("django.db.models.signals.pre_save", "accounts.Profile"),
        ("django.db.models.signals.post_save", "accounts.Profile"),
    ]
    assert saves[1].depth == 1


def test_profile_update_saves_the_profile_again(visit: Visitor) -> None:
    page = visit("/profile/")

    on_update = page.calls("save_profile")[1]
    assert on_update.send.kwargs["created"] == "False"
    assert [s.sender for s in saves_in(on_update)] == ["accounts.Profile", "accounts.Profile"]


# -- Family tree ---------------------------------------------------------------------------------


def test_family_spouse_receiver_reenters_once(visit: Visitor) -> None:
    page = visit("/family/")

    (problem,) = [
        p
        for p in page.problems("recursion")
        if p.calls[0].receiver_name.endswith("keep_spouses_in_sync")
    ]
    assert problem.details["depth"] == 2


def test_family_parent_receiver_adds_the_spouse_in_a_nested_send(visit: Visitor) -> None:
    page = visit("/family/")

    outer = [c for c in page.calls("add_spouse_as_parent") if c.send.depth == 0]
    post_add = [c for c in outer if c.send.kwargs["action"] == "'post_add'"]
    nested = [
        s.kwargs["action"] for s in post_add[0].sends if s.signal_name.endswith("m2m_changed")
    ]
    assert nested == ["'pre_add'", "'post_add'"]


# -- Audit log and side effects ------------------------------------------------------------------


def test_audit_pre_save_diffs_and_post_save_has_every_side_effect(visit: Visitor) -> None:
    page = visit("/audit/")

    (pre_save, *_) = page.sends("pre_save", sender="shop.Product")
    (post_save, *_) = page.sends("post_save", sender="shop.Product")
    assert names(pre_save.calls) == ["remember_changes"]
    assert names(post_save.calls) == [
        "write_audit_entry",
        "email_price_change",
        "clear_cached_page",
        "watch_stock_level",
    ]


def test_audit_entry_save_nests_under_write_audit_entry(visit: Visitor) -> None:
    page = visit("/audit/")

    (write, *_) = page.calls("write_audit_entry")
    assert [s.sender for s in saves_in(write)] == ["shop.AuditEntry", "shop.AuditEntry"]
    assert write.queries >= 1


def test_audit_m2m_and_delete_receivers_run(visit: Visitor) -> None:
    page = visit("/audit/")

    assert page.calls("log_tag_change")
    assert names(page.sends("pre_delete", sender="shop.Product")[0].calls) == ["archive_product"]
    assert names(page.sends("post_delete", sender="shop.Product")[0].calls) == ["forget_product"]


def test_audit_price_change_is_emailed(visit: Visitor) -> None:
    visit("/audit/")

    assert [message.subject for message in mail.outbox] == ["Price of Kettle changed"]


# -- Custom signals ------------------------------------------------------------------------------


def test_custom_signal_is_sent_from_the_view_with_its_kwargs(visit: Visitor) -> None:
    page = visit("/custom-signals/")

    (send,) = page.sends("demo_site.shop.signals.order_placed")
    assert send.depth == 0
    assert send.kwargs["coupon"] == "'SPRING24'"
    assert send.kwargs["total"] == "Decimal('44.50')"
    assert send.callsite.startswith("demo_site/shop/views.py:")


def test_custom_signal_sent_from_a_receiver_nests_under_it(visit: Visitor) -> None:
    page = visit("/custom-signals/")

    (send,) = page.sends("demo_site.shop.signals.loyalty_points_awarded")
    assert send.depth == 1
    assert send.parent is not None
    assert send.parent.receiver_name.endswith("award_loyalty_points")
    assert names(send.calls) == ["upgrade_tier", "email_points_statement"]


# -- Async ---------------------------------------------------------------------------------------


def test_async_view_asend_runs_sync_and_async_receivers(visit: Visitor) -> None:
    page = visit("/async/")

    (send,) = page.sends("order_shipped")
    assert send.is_async
    assert {(short(call), call.is_async) for call in send.calls} == {
        ("mark_order_shipped", False),
        ("notify_carrier", True),
        ("publish_tracking_update", True),
    }


def test_async_sync_receiver_save_nests_under_it(visit: Visitor) -> None:
    page = visit("/async/")

    (mark,) = page.calls("mark_order_shipped")
    assert [(s.signal_name, s.sender) for s in saves_in(mark)] == [
        ("django.db.models.signals.pre_save", "shop.Order"),
        ("django.db.models.signals.post_save", "shop.Order"),
    ]


@pytest.mark.django_db(transaction=True)
async def test_async_view_under_asgi_records_every_receiver(async_client: AsyncClient) -> None:
    with record_signals() as recording:
        response = await async_client.get("/async/")

    assert response.status_code == 200
    (send,) = [s for s in recording.sends if s.signal_name.endswith(".order_shipped")]
    assert sorted(names(send.calls)) == [
        "mark_order_shipped",
        "notify_carrier",
        "publish_tracking_update",
    ]


# -- blinker -------------------------------------------------------------------------------------


def test_blinker_send_nests_under_a_django_receiver(visit: Visitor) -> None:
    page = visit("/blinker/")

    (send,) = page.sends("shop.stock-low")
    assert send.library == "blinker"
    assert send.parent is not None
    assert send.parent.receiver_name.endswith("watch_stock_level")
    assert names(send.calls) == ["reorder_from_supplier", "alert_warehouse"]


def test_blinker_receiver_save_nests_django_sends_under_it(visit: Visitor) -> None:
    page = visit("/blinker/")

    (reorder,) = page.calls("reorder_from_supplier")
    assert [s.sender for s in saves_in(reorder)] == ["shop.Restock", "shop.Restock"]
    assert all(s.library == "django" for s in reorder.sends)


# -- Transactions --------------------------------------------------------------------------------
# Transactional tests: a plain test runs inside an atomic block, so every send would be in one.


@pytest.mark.django_db(transaction=True)
def test_transactions_send_inside_atomic_is_marked(visit: Visitor) -> None:
    page = visit("/transactions/")

    (payment,) = page.sends("payment_captured")
    (order_saved,) = page.sends("post_save", sender="shop.Order")
    (customer_saved,) = page.sends("post_save", sender="shop.Customer")
    assert (payment.in_atomic, order_saved.in_atomic, customer_saved.in_atomic) == (
        True,
        True,
        False,
    )


@pytest.mark.django_db(transaction=True)
def test_transactions_on_commit_receiver_is_marked(visit: Visitor) -> None:
    page = visit("/transactions/")

    (send,) = page.sends("payment_captured")
    assert {short(call): call.on_commit for call in send.calls} == {
        "record_payment": 0,
        "email_receipt_on_commit": 1,
    }


@pytest.mark.django_db(transaction=True)
def test_transactions_receipt_is_sent_after_the_commit(visit: Visitor) -> None:
    visit("/transactions/")

    assert [message.subject for message in mail.outbox] == ["Receipt for PAY-DEMO"]
