"""A helper of the project that sends a signal for its caller (see tests/test_naming.py)."""

from __future__ import annotations

from typing import Any


def send_for_caller(signal: Any) -> None:
    signal.send(sender=None)
