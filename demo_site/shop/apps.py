from __future__ import annotations

from django.apps import AppConfig


class ShopConfig(AppConfig):
    name = "demo_site.shop"
    label = "shop"

    def ready(self) -> None:
        from demo_site.shop import receivers  # noqa: F401
