from __future__ import annotations

import secrets
import threading
from collections import deque
from collections.abc import Callable
from typing import Any

from django.core.cache import cache
from django.db.models.signals import post_save
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from demo_site.pitfalls.models import Article, CoverPhoto, Notification, Page, Photo, Subscriber
from demo_site.pitfalls.receivers import MAX_DEPTH, SEARCH_INDEX
from demo_site.pitfalls.signals import refund_issued
from demo_site.shop import data
from demo_site.views import render_scenario

# -- Duplicates and connect() during a request ---------------------------------------------------

#: The demo's cap on receivers connected by requests, so the pile-up stays bounded.
MAX_PER_REQUEST_RECEIVERS = 3
_lock = threading.Lock()
_connected_by_requests: list[Callable[..., None]] = []
#: Sign-ups as the "analytics" receivers counted them (the latest 200).
SIGNUPS_COUNTED: deque[str] = deque(maxlen=200)


def duplicates(request: HttpRequest) -> HttpResponse:
    def count_signup(sender: type[Subscriber], instance: Subscriber, **kwargs: Any) -> None:
        if kwargs.get("created"):
            with _lock:
                SIGNUPS_COUNTED.append(instance.email)

    # The bug: a new function connected on every request. Each is a different object, so
    # connect() keeps them all (weak=False keeps them alive), and each sign-up is counted once
    # per request served so far.
    post_save.connect(count_signup, sender=Subscriber, weak=False)
    with _lock:
        _connected_by_requests.append(count_signup)
        stale = _connected_by_requests[:-MAX_PER_REQUEST_RECEIVERS]
        del _connected_by_requests[:-MAX_PER_REQUEST_RECEIVERS]
    for old in stale:  # The demo's cap, not part of the bug.
        post_save.disconnect(old, sender=Subscriber)

    subscriber = Subscriber.objects.create(email=f"reader-{secrets.token_hex(3)}@example.com")
    welcomes = Notification.objects.filter(recipient=subscriber.email).count()
    with _lock:
        counted = SIGNUPS_COUNTED.count(subscriber.email)
    return render_scenario(
        request,
        "duplicates",
        [
            f"{subscriber.email} signed up and got {welcomes} welcome e-mails (one was expected): "
            f"queue_welcome_email is connected once per name its module was imported under.",
            f"Analytics counted this one sign-up {counted} times: count_signup is connected once "
            f"more per request. Reload to watch it grow (the demo stops at "
            f"{MAX_PER_REQUEST_RECEIVERS}).",
        ],
    )


# -- Runaway recursion ---------------------------------------------------------------------------


def recursion(request: HttpRequest) -> HttpResponse:
    article = Article.objects.create(
        title="Signals considered harmful?", body="Receivers that save their own instance recurse."
    )
    return render_scenario(
        request,
        "recursion",
        [
            f"Created “{article.title}”: update_word_count saved it again from its own post_save, "
            f"{MAX_DEPTH} levels deep, until the demo's guard stopped it. Without the guard this "
            f"request would end in RecursionError.",
        ],
    )


# -- Swallowed error -----------------------------------------------------------------------------


def swallowed(request: HttpRequest) -> HttpResponse:
    order = data.sample_order("REFUND-DEMO", 1)
    refund_issued.send_robust(sender=type(order), order=order, amount=str(order.total))
    # The bug: the responses (which hold the exception) are never looked at.
    return render_scenario(
        request,
        "swallowed",
        [
            f"Refund of {order.total} on {order.number} done!",
            "(That is what the view believes: accounting was never told.)",
        ],
    )


# -- Slow receiver -------------------------------------------------------------------------------


def slow(request: HttpRequest) -> HttpResponse:
    photo = Photo.objects.create(title=f"Holiday {secrets.token_hex(2)}")
    return render_scenario(
        request,
        "slow",
        [f"Uploaded “{photo.title}”; make_thumbnail resized it inline before the page returned."],
    )


# -- Receiver that vanishes in production --------------------------------------------------------


def vanishing(request: HttpRequest) -> HttpResponse:
    page, _created = Page.objects.get_or_create(pk=1, defaults={"title": "About us"})
    page.title = f"About us (edited {timezone.now():%H:%M:%S})"
    page.save()
    if SEARCH_INDEX.get(page.pk) == page.title:
        why = (
            "index_page ran: DEBUG=True kept it alive when it was connected at start-up. With "
            "DEBUG=False it is garbage-collected right away and the index silently goes stale."
        )
    else:
        why = "index_page did not run: it was garbage-collected at start-up (DEBUG=False)."
    return render_scenario(request, "vanishing", [f"Saved “{page.title}”.", why])


# -- Receiver that never runs for a proxy --------------------------------------------------------


def proxy(request: HttpRequest) -> HttpResponse:
    cover = CoverPhoto.objects.create(title=f"Cover {secrets.token_hex(2)}")
    pinned = "pinned it as the cover" if cache.get("cover-photo") == cover.pk else "did not run"
    # The thumbnail is looked for by title too: the key may hold a deleted photo's that had this pk.
    if str(cache.get(f"thumbnail:{cover.pk}", "")).startswith(cover.title):
        thumbnail = "make_thumbnail made its thumbnail."
    else:
        thumbnail = (
            "It has no thumbnail: make_thumbnail is connected for Photo, and saving a CoverPhoto "
            "sends post_save for CoverPhoto only."
        )
    return render_scenario(
        request,
        "proxy",
        [
            f"Uploaded “{cover.title}” as a CoverPhoto: pin_cover_photo, connected for "
            f"CoverPhoto, {pinned}.",
            thumbnail,
        ],
    )
