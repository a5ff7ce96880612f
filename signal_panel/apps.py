from __future__ import annotations

from typing import Any

from django.apps import AppConfig


class SignalPanelConfig(AppConfig):
    name = "signal_panel"
    verbose_name = "Signal panel"
    default_auto_field = "django.db.models.AutoField"

    def __init__(self, app_name: str, app_module: Any) -> None:
        super().__init__(app_name, app_module)
        # Django makes every app config before it imports any models module: installing here
        # (not in ready()) sees every connect() of the apps' models modules and ready()s, such
        # as django-simple-history's per-model receivers, wherever the app is listed.
        from signal_panel.tracking import install

        install()

    def ready(self) -> None:
        from signal_panel import checks

        checks.register()
