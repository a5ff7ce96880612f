"""System checks: a wrong ``SIGNAL_PANEL`` is reported at start-up, never at request time."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks

from signal_panel.conf import validate

__all__ = ["check_receiver_modules", "check_settings", "register"]


def check_settings(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """``signal_panel.E001`` for every invalid key or value in ``SIGNAL_PANEL``, and
    ``signal_panel.W001`` for each name in ``IGNORE_SIGNALS`` that names no signal (checks run
    after every app is loaded, so every module-level signal can be found)."""
    if not hasattr(settings, "SIGNAL_PANEL"):
        return []
    value: object = getattr(settings, "SIGNAL_PANEL")  # noqa: B009 (not in django-stubs' Settings)
    errors = validate(value)
    found: list[checks.CheckMessage] = [
        checks.Error(
            message,
            hint="See the settings page of django-signal-panel's docs (docs/settings.md).",
            id="signal_panel.E001",
        )
        for message in errors
    ]
    ignored = value.get("IGNORE_SIGNALS") if isinstance(value, dict) else None
    if isinstance(ignored, (list, tuple)) and not any("IGNORE_SIGNALS" in e for e in errors):
        from signal_panel import registry

        _found, missing = registry.resolve_signals(ignored)
        found.extend(
            checks.Warning(
                f"SIGNAL_PANEL['IGNORE_SIGNALS'] names {name!r}, which is no signal of an "
                "imported module nor a blinker signal name; it ignores nothing.",
                hint="Use the signal's dotted path, e.g. 'django.db.models.signals.pre_init'.",
                id="signal_panel.W001",
            )
            for name in missing
        )
    return found


def check_receiver_modules(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """``signal_panel.W002`` for each module of the project's installed apps that defines
    ``@receiver`` functions and was never imported: none of its receivers is connected."""
    from signal_panel.missed import unimported_receiver_modules

    return [
        checks.Warning(
            f"{module.module} ({module.path}) defines receivers "
            f"({', '.join(name for name, _signal in module.receivers)}) but was never imported, "
            "so none of them is connected.",
            hint=(
                f"Import it in the ready() method of the {module.app!r} app's AppConfig: "
                f"`import {module.module}  # noqa: F401`."
            ),
            id="signal_panel.W002",
        )
        for module in unimported_receiver_modules()
        if app_configs is None or module.app in {config.label for config in app_configs}
    ]


def register() -> None:
    checks.register(check_settings, checks.Tags.compatibility)
    checks.register(check_receiver_modules, checks.Tags.signals)
