from __future__ import annotations

from django.http import HttpRequest
from django.urls import include, path


def show_toolbar(request: HttpRequest) -> bool:
    return True


urlpatterns: list = []
try:
    from debug_toolbar.toolbar import debug_toolbar_urls

    urlpatterns += debug_toolbar_urls()
except ImportError:  # pragma: no cover
    urlpatterns += [path("__debug__/", include("debug_toolbar.urls"))]
