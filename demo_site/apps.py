from __future__ import annotations

from django.apps import AppConfig


class DemoSiteConfig(AppConfig):
    """The project itself: index page, shared templates and the ``load_demo_data`` command."""

    name = "demo_site"
    verbose_name = "Example project"
