"""Reproduce the classic cause of a receiver connected twice: one file, two module names.

When an app's directory is on ``sys.path`` as well as the project root (an old entry in
``sys.path`` or ``PYTHONPATH``, a script started from inside the app), ``import newsletter`` and
``import demo_site.pitfalls.newsletter`` load the same file as two different modules. Django's
``connect()`` cannot tell that the two functions they define are one receiver: it keys receivers
by object identity (or ``dispatch_uid``, which would have prevented this).
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import ModuleType

APP_DIR = str(Path(__file__).resolve().parent)


def import_under_second_name(name: str) -> ModuleType:
    """Import ``demo_site.pitfalls.<name>`` again as top-level ``<name>`` (once per process)."""
    sys.path.insert(0, APP_DIR)
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(APP_DIR)
