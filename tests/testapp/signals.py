"""The test project's own signals (module level, so they have dotted names)."""

from __future__ import annotations

from django.dispatch import Signal

book_published = Signal()
duplicate_target = Signal()


class Hooks:
    """Signals kept as class attributes."""

    audited = Signal()
