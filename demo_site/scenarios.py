"""The scenarios of the example project: one page each, listed on the index page.

Each has two lines: what the page does, and what to look for in the toolbar's Signals panel.
The pages themselves live in each app's ``views.py``; ``demo_site/urls.py`` maps them.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["SCENARIOS", "Scenario", "by_slug"]


@dataclass(frozen=True)
class Scenario:
    slug: str
    title: str
    #: "use" for everyday signal code, "pitfall" for what goes wrong with it.
    group: str
    does: str
    look_for: str


SCENARIOS = [
    Scenario(
        "profile",
        "Profile on sign-up",
        "use",
        "Signs a user up, then updates them. Two post_save receivers on auth.User create the "
        "profile when created=True and save it again on every save.",
        "Both receivers under each post_save of auth.User, the profile's own pre_save/post_save "
        "nested below them, and save_profile saving an unchanged profile on the update.",
    ),
    Scenario(
        "family",
        "Family tree",
        "use",
        "Marries two people and gives them a child. A post_save receiver keeps the spouse "
        "relation two-way; an m2m_changed receiver adds the spouse as the child's second parent.",
        "Each receiver re-entering itself once through the save (or add) it makes, stopped by its "
        "guard: a bounded recursion, two levels deep, next to the runaway one.",
    ),
    Scenario(
        "audit",
        "Audit log and side effects",
        "use",
        "Changes a product's price, tags it, and deletes a discontinued product. Receivers diff "
        "old and new values, write an audit log, e-mail the price change, clear cached pages.",
        "pre_save, post_save, m2m_changed, pre_delete and post_delete with their receivers, the "
        "audit rows' own saves nested under write_audit_entry, and each receiver's queries.",
    ),
    Scenario(
        "custom",
        "Custom signals",
        "use",
        "Places an order and sends shop.signals.order_placed with extra kwargs (order, total, "
        "coupon); one of its receivers sends loyalty_points_awarded in turn.",
        "The kwargs summarised next to the send, its call site in the view, and "
        "loyalty_points_awarded nested one level down under award_loyalty_points.",
    ),
    Scenario(
        "async",
        "Async view and asend()",
        "use",
        "An async view ships an order with await order_shipped.asend(...), which has one sync "
        "receiver and two async ones.",
        "The send marked async, the sync receiver run in a worker thread, the two async receivers "
        "overlapping in time, and the post_save the sync receiver makes nested under it.",
    ),
    Scenario(
        "blinker",
        "blinker signal",
        "use",
        "Sells umbrellas until stock runs low: a post_save receiver sends the blinker signal "
        "shop.stock-low, and one of its receivers creates a restock order.",
        "The blinker send (with its library badge) nested under a Django receiver, and a Django "
        "post_save nested under a blinker receiver.",
    ),
    Scenario(
        "transactions",
        "Transactions and on_commit",
        "use",
        "Captures a payment inside transaction.atomic(); a receiver of payment_captured schedules "
        "the receipt e-mail with transaction.on_commit. The customer is saved after the block.",
        "Which sends ran inside an atomic block and which did not, and the receiver call that "
        "registered an on_commit callback.",
    ),
    Scenario(
        "duplicates",
        "Duplicates and connect() during a request",
        "pitfall",
        "Signs up a newsletter reader. The receiver's module is imported under two names, so it is "
        "connected twice; the view also connects a new function on every request.",
        "queue_welcome_email run twice per send (two welcome e-mails), the connect() made during "
        "the request, and count_signup piling up as you reload (the demo caps it at three).",
    ),
    Scenario(
        "recursion",
        "Runaway recursion",
        "pitfall",
        "Saves an article. Its post_save receiver saves the instance again, which sends post_save "
        "again, and so on; a depth guard stops it after 8 levels so the server keeps running.",
        "The recursion problem with its depth, and the staircase of post_save sends nested "
        "inside each other.",
    ),
    Scenario(
        "swallowed",
        "Swallowed error",
        "pitfall",
        "Issues a refund with refund_issued.send_robust(). One receiver raises ConnectionError; "
        "send_robust catches it and the view, which ignores the result, reports success.",
        "The swallowed_error problem naming tell_accounting and its exception, while the page "
        "(and the HTTP status) say everything went fine.",
    ),
    Scenario(
        "slow",
        "Slow receiver",
        "pitfall",
        "Uploads a photo. A post_save receiver makes the thumbnail inline, taking about 50 ms of "
        "the request.",
        "The slow_receiver problem, and make_thumbnail's bar dwarfing the others in the timeline.",
    ),
    Scenario(
        "bulk",
        "Bypassed receivers",
        "pitfall",
        "Imports orders with bulk_create(), cancels them with QuerySet.update() and re-prices "
        "them with bulk_update(). shop.Order has pre_save and post_save receivers.",
        "bypassed_receivers problems naming the receivers that never ran, with the call site; the "
        "imported orders have no order number because stamp_order_number never ran.",
    ),
    Scenario(
        "n_plus_one",
        "N+1 queries in a receiver",
        "pitfall",
        "Requests an invoice for a 12-line order. One receiver reads each line's product one "
        "query at a time; the other uses select_related().",
        "The repeated_query problem on build_invoice_naive and the query counts of both "
        "receivers side by side.",
    ),
    Scenario(
        "vanishing",
        "Receiver that vanishes in production",
        "pitfall",
        "Saves a page of the site. Its search-index receiver is a local function connected "
        "weakly at start-up, alive only because DEBUG=True keeps a reference to it.",
        "The vanishing_receiver problem with where it was connected: with DEBUG=False the "
        "receiver is garbage-collected and the search index silently stops updating.",
    ),
    Scenario(
        "proxy",
        "Receiver that never runs for a proxy",
        "pitfall",
        "Uploads the blog's cover photo as a CoverPhoto, a proxy of Photo. make_thumbnail is "
        "connected for Photo; a proxy sends post_save as itself, so only pin_cover_photo runs.",
        "The receiver_not_run problem naming make_thumbnail and the class it is connected for, "
        "its row under Why not run?, and a cover photo with no thumbnail.",
    ),
    Scenario(
        "rolled_back",
        "on_commit work rolled back",
        "pitfall",
        "Pays for an order inside transaction.atomic(): saves it as paid and sends "
        "payment_captured, then the bank declines the card; the view catches the error.",
        "The discarded_on_commit problem and the receipt's callback discarded by a rollback "
        "under email_receipt_on_commit, while sync_order_to_crm had told the CRM it was paid.",
    ),
    Scenario(
        "ignored_return",
        "Returning False from pre_save",
        "pitfall",
        "Saves a review with no text. Its pre_save receiver refuse_empty_review returns False "
        "to cancel the save, which Django ignores.",
        "The ignored_return problem naming refuse_empty_review and what it returned, and the "
        "empty review saved anyway.",
    ),
]

_BY_SLUG = {scenario.slug: scenario for scenario in SCENARIOS}


def by_slug(slug: str) -> Scenario:
    return _BY_SLUG[slug]
