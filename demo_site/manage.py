#!/usr/bin/env python
"""Django's command-line utility for the example project (``make demo`` runs it)."""

from __future__ import annotations

import os
import sys
from pathlib import Path


def main() -> None:
    # Put the project root in place of this script's directory: with the script's directory on
    # sys.path, ``accounts`` and ``demo_site.accounts`` would be two importable names for one app
    # (the classic cause of receivers connected twice; the Duplicates page shows it on purpose).
    sys.path[0] = str(Path(__file__).resolve().parent.parent)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "demo_site.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
