"""Views the panel's tests request through the real debug toolbar (see tests/urls.py)."""

from __future__ import annotations

from django.db import transaction
from django.dispatch import Signal
from django.http import HttpRequest, HttpResponse

from tests.testapp.models import Author, Book, Tag

#: A project signal the views send, with a kwarg whose text is markup.
page_viewed = Signal()

PAGE = (
    "<!DOCTYPE html><html><head><title>{title}</title></head><body><h1>{title}</h1></body></html>"
)


def library(request: HttpRequest) -> HttpResponse:
    """Saves an author and a book (nested sends when receivers save in turn), loads tags, and
    sends a project signal."""
    with transaction.atomic():
        author = Author.objects.create(name="Ursula")
        Book.objects.create(title="The Dispossessed", author=author)
    list(Tag.objects.all())
    page_viewed.send_robust(sender=None, path=request.path, note="<script>alert('x')</script>")
    return HttpResponse(PAGE.format(title="Library"))


async def async_library(request: HttpRequest) -> HttpResponse:
    author = await Author.objects.acreate(name="Octavia")
    await Book.objects.acreate(title="Kindred", author=author)
    await page_viewed.asend_robust(sender=None, path=request.path, note="async")
    return HttpResponse(PAGE.format(title="Async library"))


def empty(request: HttpRequest) -> HttpResponse:
    return HttpResponse(PAGE.format(title="Nothing sent"))
