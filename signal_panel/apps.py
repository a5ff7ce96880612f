from __future__ import annotations

from django.apps import AppConfig


class SignalPanelConfig(AppConfig):
    name = "signal_panel"
    verbose_name = "Signal panel"
    default_auto_field = "django.db.models.AutoField"

    def ready(self) -> None:
        from signal_panel import checks
        from signal_panel.tracking import install

        install()
        checks.register()
