from __future__ import annotations

from django.apps import AppConfig


class BenchAppConfig(AppConfig):
    name = "benchmarks.benchapp"
    label = "benchapp"
    default_auto_field = "django.db.models.AutoField"

    def ready(self) -> None:
        # Connected where a project connects its receivers; see receivers.py.
        from benchmarks.benchapp import receivers

        receivers.connect()
