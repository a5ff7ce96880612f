"""Instrumentation of ``blinker.Signal`` (see the blinker issue; filled in separately)."""

from __future__ import annotations


def install() -> None:
    """Nothing yet."""
