"""pytest plugin of django-signal-panel (registered through the ``pytest11`` entry point)."""

from __future__ import annotations
