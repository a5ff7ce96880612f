from __future__ import annotations

from django.apps import AppConfig


class PitfallsConfig(AppConfig):
    name = "demo_site.pitfalls"
    label = "pitfalls"

    def ready(self) -> None:
        from demo_site.pitfalls import legacy, newsletter, receivers  # noqa: F401

        # Duplicates: the newsletter module imported a second time, under another name.
        legacy.import_under_second_name("newsletter")
        # Vanishing receiver: a local function connected weakly.
        receivers.connect_search_indexer()
