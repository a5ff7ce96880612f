from __future__ import annotations

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "demo_site.accounts"
    label = "accounts"

    def ready(self) -> None:
        # Receivers live in their own module, connected once the models are ready.
        from demo_site.accounts import receivers  # noqa: F401
