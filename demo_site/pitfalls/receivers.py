"""Receivers that go wrong: recursion, a slow one, one that raises, one that will vanish, one
that never runs for a proxy.

Imported once, by ``PitfallsConfig.ready()``.
"""

from __future__ import annotations

import time
from contextvars import ContextVar
from typing import Any

from django.core.cache import cache
from django.db.models.signals import post_save
from django.dispatch import receiver

from demo_site.pitfalls.models import Article, CoverPhoto, Notification, Page, Photo
from demo_site.pitfalls.signals import refund_issued
from demo_site.shop.models import Order

# -- Runaway recursion ---------------------------------------------------------------------------

#: The demo's safety net, not part of the bug: how many levels update_word_count may nest.
MAX_DEPTH = 8
_depth: ContextVar[int] = ContextVar("update_word_count_depth", default=0)


@receiver(post_save, sender=Article)
def update_word_count(sender: type[Article], instance: Article, **kwargs: Any) -> None:
    depth = _depth.get() + 1  # This call's level: 1 for the first, 2 when called from it, ...
    if depth >= MAX_DEPTH:
        return
    token = _depth.set(depth)
    try:
        instance.word_count = len(instance.body.split())
        # The bug: save() sends post_save again, which calls this receiver again, and so on.
        # Fixes: Article.objects.filter(pk=instance.pk).update(word_count=...), or count the
        # words in Article.save() before the row is written.
        instance.save()
    finally:
        _depth.reset(token)


# -- Slow receiver -------------------------------------------------------------------------------

THUMBNAIL_SECONDS = 0.05


@receiver(post_save, sender=Photo)
def make_thumbnail(sender: type[Photo], instance: Photo, created: bool, **kwargs: Any) -> None:
    if not created:
        return
    # Stands in for resizing the upload inline (an image library, an image service): the
    # request waits for it. A task queue is the usual fix.
    time.sleep(THUMBNAIL_SECONDS)
    cache.set(f"thumbnail:{instance.pk}", f"{instance.title} 200x200", 600)


# -- Receiver that never runs for a proxy --------------------------------------------------------
# make_thumbnail above is connected for Photo. Saving a CoverPhoto sends post_save with
# sender=CoverPhoto (a proxy sends as itself), and Django runs a receiver only for the exact class
# it was connected for: cover photos get no thumbnail. Fix: connect make_thumbnail for CoverPhoto
# too (a second @receiver line), or for no sender with an isinstance(instance, Photo) check.


@receiver(post_save, sender=CoverPhoto)
def pin_cover_photo(sender: type[CoverPhoto], instance: CoverPhoto, **kwargs: Any) -> None:
    # Connected for the proxy: it runs for cover photos, and not when a plain Photo is saved.
    cache.set("cover-photo", instance.pk, 600)


# -- Swallowed error -----------------------------------------------------------------------------


@receiver(refund_issued)
def return_to_card(sender: type[Order], order: Order, amount: str, **kwargs: Any) -> None:
    Notification.objects.create(recipient="payments", subject=f"Refund {amount} on {order}")


@receiver(refund_issued)
def tell_accounting(sender: type[Order], order: Order, amount: str, **kwargs: Any) -> None:
    # The accounting service is down; send_robust() catches this and nobody hears about it.
    raise ConnectionError("accounting.example.com:443 refused the connection")


@receiver(refund_issued)
def email_refund_receipt(sender: type[Order], order: Order, amount: str, **kwargs: Any) -> None:
    Notification.objects.create(recipient=order.customer.email, subject=f"Refund of {amount}")


# -- Receiver that vanishes in production --------------------------------------------------------

#: The site's "search index": page id -> title.
SEARCH_INDEX: dict[int, str] = {}


def connect_search_indexer() -> None:
    """Connect the search indexer (called once, from ``PitfallsConfig.ready()``)."""

    def index_page(sender: type[Page], instance: Page, **kwargs: Any) -> None:
        SEARCH_INDEX[instance.pk] = instance.title

    # The bug: connect() keeps a weak reference by default, and nothing else references this
    # local function once connect_search_indexer() returns. With DEBUG=True, connect() checks
    # its signature through a cache that keeps it alive; with DEBUG=False it is garbage-collected
    # at once and never runs. Fix: define it at module level, or connect(..., weak=False).
    post_save.connect(index_page, sender=Page)
