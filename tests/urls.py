from __future__ import annotations

from django.http import HttpRequest
from django.urls import include, path

from tests import views


def show_toolbar(request: HttpRequest) -> bool:
    return True


urlpatterns: list = [
    path("library/", views.library, name="library"),
    path("async-library/", views.async_library, name="async_library"),
    path("empty/", views.empty, name="empty"),
    # Not debug_toolbar_urls(): it adds nothing when DEBUG is False, as pytest-django makes it.
    path("__debug__/", include("debug_toolbar.urls")),
]
