from __future__ import annotations

from django.apps import AppConfig


class ForgetfulConfig(AppConfig):
    """An app whose ready() forgets to import its receivers module (signal_panel.W002)."""

    name = "tests.forgetful"
    default_auto_field = "django.db.models.AutoField"
