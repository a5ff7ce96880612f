"""The pitfalls: each shows its problem in the recording, and stays bounded."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.core import mail
from django.core.cache import cache
from django.urls import reverse

from demo_site.pitfalls.models import Notification, Photo, Subscriber
from demo_site.pitfalls.receivers import MAX_DEPTH
from demo_site.pitfalls.views import MAX_PER_REQUEST_RECEIVERS
from demo_site.scenarios import SCENARIOS, Scenario
from demo_site.shop.models import AuditEntry, Order, Review
from signal_panel.missed import misses
from tests.demo.visits import Visit, names

Visitor = Callable[[str], Visit]


# -- Duplicates and connect() during a request ---------------------------------------------------


def test_duplicates_module_imported_twice_runs_its_receiver_twice(visit: Visitor) -> None:
    page = visit("/duplicates/")

    (problem,) = [
        p for p in page.problems("duplicate_receiver") if "queue_welcome_email" in p.message
    ]
    assert problem.details["per_send"] == 2
    assert names(problem.calls) == ["queue_welcome_email", "queue_welcome_email"]


def test_duplicates_sends_two_welcome_emails(visit: Visitor) -> None:
    visit("/duplicates/")

    subscriber = Subscriber.objects.latest("pk")
    assert Notification.objects.filter(recipient=subscriber.email).count() == 2


def test_duplicates_connect_during_the_request_is_a_problem(visit: Visitor) -> None:
    page = visit("/duplicates/")

    connects = [p for p in page.problems("connect_during_request") if "count_signup" in p.message]
    assert connects
    assert connects[0].locations[0].startswith("demo_site/pitfalls/views.py:")


def test_duplicates_per_request_receivers_pile_up_to_the_cap(visit: Visitor) -> None:
    for _ in range(MAX_PER_REQUEST_RECEIVERS + 2):
        page = visit("/duplicates/")

    (send,) = page.sends("post_save", sender="pitfalls.Subscriber")
    assert names(send.calls).count("count_signup") == MAX_PER_REQUEST_RECEIVERS
    assert any("count_signup" in p.message for p in page.problems("duplicate_receiver"))


# -- Runaway recursion ---------------------------------------------------------------------------


def test_recursion_is_reported_with_its_depth(visit: Visitor) -> None:
    page = visit("/recursion/")

    (problem,) = page.problems("recursion")
    assert problem.calls[0].receiver_name.endswith("update_word_count")
    assert problem.details["depth"] == MAX_DEPTH


def test_recursion_is_stopped_by_the_guard(visit: Visitor) -> None:
    page = visit("/recursion/")

    depths = [send.depth for send in page.sends("post_save", sender="pitfalls.Article")]
    assert depths == list(range(MAX_DEPTH))


# -- Swallowed error -----------------------------------------------------------------------------


def test_swallowed_error_is_reported(visit: Visitor) -> None:
    page = visit("/swallowed-error/")

    (problem,) = page.problems("swallowed_error")
    assert problem.calls[0].receiver_name.endswith("tell_accounting")
    assert problem.calls[0].error == (
        "ConnectionError: accounting.example.com:443 refused the connection"
    )


def test_swallowed_error_leaves_the_page_reporting_success(visit: Visitor) -> None:
    page = visit("/swallowed-error/")

    (send,) = page.sends("refund_issued")
    assert send.robust
    assert names(send.calls) == ["return_to_card", "tell_accounting", "email_refund_receipt"]
    assert b"done!" in page.response.content


# -- Slow receiver -------------------------------------------------------------------------------


def test_slow_receiver_is_reported(visit: Visitor) -> None:
    page = visit("/slow-receiver/")

    (problem,) = page.problems("slow_receiver")
    assert names(problem.calls) == ["make_thumbnail"]


# -- Bypassed receivers --------------------------------------------------------------------------


def test_bulk_operations_report_the_receivers_they_skip(visit: Visitor) -> None:
    page = visit("/bulk/")

    operations = {
        p.details["operation"]: p.details["receivers"] for p in page.problems("bypassed_receivers")
    }
    expected = [
        "demo_site.shop.receivers.stamp_order_number",
        "demo_site.shop.receivers.sync_order_to_crm",
    ]
    assert operations == {"bulk_create": expected, "update": expected, "bulk_update": expected}


def test_bulk_bypass_names_the_call_site(visit: Visitor) -> None:
    page = visit("/bulk/")

    for problem in page.problems("bypassed_receivers"):
        assert problem.locations[0].startswith("demo_site/shop/views.py:")


def test_bulk_import_sends_no_order_signals(visit: Visitor) -> None:
    page = visit("/bulk/")

    assert page.sends("post_save", sender="shop.Order") == []


# -- N+1 queries ---------------------------------------------------------------------------------


def test_n_plus_one_receiver_is_reported(visit: Visitor) -> None:
    page = visit("/n-plus-one/")

    (problem,) = page.problems("repeated_query")
    assert names(problem.calls) == ["build_invoice_naive"]


def test_n_plus_one_query_counts_side_by_side(visit: Visitor) -> None:
    page = visit("/n-plus-one/")

    (naive,) = page.calls("build_invoice_naive")
    (prefetched,) = page.calls("build_invoice_prefetched")
    assert (naive.queries, prefetched.queries) == (13, 1)


# -- Receiver that vanishes in production --------------------------------------------------------


def test_vanishing_receiver_is_reported_where_it_was_connected(visit: Visitor) -> None:
    page = visit("/vanishing-receiver/")

    (problem,) = page.problems("vanishing_receiver")
    assert "index_page" in problem.message
    assert any(loc.startswith("demo_site/pitfalls/receivers.py:") for loc in problem.locations)


def test_vanishing_receiver_is_not_reported_where_it_does_not_run(visit: Visitor) -> None:
    # post_save is sent for the new user; index_page only receives it for pages.
    page = visit("/profile/")

    assert page.calls("create_profile")
    assert page.problems("vanishing_receiver") == []


def test_vanishing_receiver_still_runs_here(visit: Visitor) -> None:
    page = visit("/vanishing-receiver/")

    assert page.calls("index_page")
    assert b"index_page ran" in page.response.content


# -- Receiver that never runs for a proxy --------------------------------------------------------


def test_proxy_receiver_not_run_is_reported_with_the_class_it_is_connected_for(
    visit: Visitor,
) -> None:
    page = visit("/proxy-receiver/")

    (problem,) = page.problems("receiver_not_run")
    assert problem.details == {
        "receiver": "demo_site.pitfalls.receivers.make_thumbnail",
        "signal": "django.db.models.signals.post_save",
        "sender": "pitfalls.CoverPhoto",
        "reason": "related_sender",
        "connected_for": "pitfalls.Photo",
        "relation": "the concrete model of the proxy pitfalls.CoverPhoto (a proxy sends as itself)",
        "connected_at": problem.locations[0],
        "receivers": ["demo_site.pitfalls.receivers.make_thumbnail"],
    }
    assert problem.locations[0].startswith("demo_site/pitfalls/receivers.py:")


def test_proxy_runs_only_the_receiver_connected_for_the_proxy(visit: Visitor) -> None:
    page = visit("/proxy-receiver/")

    (send,) = page.sends("post_save", sender="pitfalls.CoverPhoto")
    assert names(send.calls) == ["pin_cover_photo"]
    assert page.calls("make_thumbnail") == []


def test_proxy_cover_photo_has_no_thumbnail(visit: Visitor) -> None:
    cache.clear()  # A photo of an earlier test may have had the same pk.
    page = visit("/proxy-receiver/")

    cover = Photo.objects.get()
    assert cache.get(f"thumbnail:{cover.pk}") is None
    assert b"It has no thumbnail" in page.response.content


def test_proxy_receiver_is_only_an_explanation_where_a_photo_is_saved(visit: Visitor) -> None:
    page = visit("/slow-receiver/")

    (miss,) = [m for m in misses(page.recording) if m.receiver.endswith(".pin_cover_photo")]
    assert (miss.sender, miss.connected_for, miss.likely) == (
        "pitfalls.Photo",
        "pitfalls.CoverPhoto",
        False,
    )
    assert page.problems("receiver_not_run") == []


# -- on_commit work rolled back ------------------------------------------------------------------


def test_rolled_back_on_commit_work_is_reported(visit: Visitor) -> None:
    page = visit("/rolled-back/")

    (problem,) = page.problems("discarded_on_commit")
    assert problem.details == {
        "callback": "functools.partial(demo_site.shop.receivers._send_receipt)",
        "outcome": "discarded",
        "receiver": "demo_site.shop.receivers.email_receipt_on_commit",
        "count": 1,
    }
    assert names(problem.calls) == ["email_receipt_on_commit"]


def test_rolled_back_receipt_callback_is_discarded_under_its_receiver(visit: Visitor) -> None:
    page = visit("/rolled-back/")

    (call,) = page.calls("email_receipt_on_commit")
    assert call.send.in_atomic
    assert [(c.name, c.outcome) for c in call.commit_callbacks] == [
        ("functools.partial(demo_site.shop.receivers._send_receipt)", "discarded")
    ]


# Transactional: the view's atomic() is the real transaction, as when the demo serves it.
@pytest.mark.django_db(transaction=True)
def test_rolled_back_page_says_declined_and_sends_no_receipt(visit: Visitor) -> None:
    page = visit("/rolled-back/")

    assert b"Payment declined" in page.response.content
    assert mail.outbox == []
    order = Order.objects.get(number="DECLINED-DEMO")
    assert order.status == "new"
    assert not AuditEntry.objects.filter(object_id=order.pk, action="payment captured").exists()


def test_rolled_back_leaves_the_crm_told_it_was_paid(visit: Visitor) -> None:
    visit("/rolled-back/")

    order = Order.objects.get(number="DECLINED-DEMO")
    assert cache.get(f"crm-order:{order.pk}") == "paid"


# -- Returning False from pre_save ---------------------------------------------------------------


def test_ignored_return_is_reported(visit: Visitor) -> None:
    page = visit("/ignored-return/")

    (problem,) = page.problems("ignored_return")
    assert problem.details == {"signal": "pre_save", "returned": "False", "sender": "shop.Review"}
    assert names(problem.calls) == ["refuse_empty_review"]
    assert problem.locations[0].startswith("demo_site/shop/receivers.py:")


def test_ignored_return_review_is_saved_anyway(visit: Visitor) -> None:
    page = visit("/ignored-return/")

    assert Review.objects.filter(text="").count() == 1
    assert b"saved it anyway" in page.response.content


# -- Each of these problems on its own page only -------------------------------------------------

OWN_PAGE = {
    "receiver_not_run": "proxy",
    "discarded_on_commit": "rolled_back",
    "ignored_return": "ignored_return",
}


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.slug for s in SCENARIOS])
def test_problem_of_a_new_pitfall_shows_on_its_own_page_only(
    visit: Visitor, scenario: Scenario
) -> None:
    page = visit(reverse(scenario.slug))

    kinds = {p.kind for p in page.recording.problems} & OWN_PAGE.keys()
    assert kinds == {kind for kind, slug in OWN_PAGE.items() if slug == scenario.slug}
