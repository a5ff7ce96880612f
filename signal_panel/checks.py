"""System checks: a wrong ``SIGNAL_PANEL`` is reported at start-up, never at request time."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks

from signal_panel.conf import validate

__all__ = ["check_settings", "register"]


def check_settings(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """``signal_panel.E001`` for every invalid key or value in ``SIGNAL_PANEL``."""
    if not hasattr(settings, "SIGNAL_PANEL"):
        return []
    value: object = getattr(settings, "SIGNAL_PANEL")  # noqa: B009 (not in django-stubs' Settings)
    return [
        checks.Error(
            message,
            hint="See the Settings section of django-signal-panel's README.",
            id="signal_panel.E001",
        )
        for message in validate(value)
    ]


def register() -> None:
    checks.register(check_settings, checks.Tags.compatibility)
