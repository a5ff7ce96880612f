from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest
from django.urls import URLPattern, URLResolver, include, path

from tests.thirdparty.notes import views


def show_toolbar(request: HttpRequest) -> bool:
    return True


urlpatterns: list[URLPattern | URLResolver] = [
    path("admin/", admin.site.urls),
    path("note/", views.public_note, name="public_note"),
    # Not debug_toolbar_urls(): it adds nothing when DEBUG is False, as pytest-django makes it.
    path("__debug__/", include("debug_toolbar.urls")),
]
