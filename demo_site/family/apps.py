from __future__ import annotations

from django.apps import AppConfig


class FamilyConfig(AppConfig):
    name = "demo_site.family"
    label = "family"

    def ready(self) -> None:
        from demo_site.family import receivers  # noqa: F401
