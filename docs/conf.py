"""Sphinx configuration of django-signal-panel's documentation (``make docs``)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import django

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# autodoc imports the package, which needs configured settings: the test suite's will do.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
django.setup()

import signal_panel  # noqa: E402

project = "django-signal-panel"
author = "django-signal-panel contributors"
copyright = "django-signal-panel contributors"
release = signal_panel.__version__
version = release

extensions = ["myst_parser", "sphinx.ext.autodoc"]
source_suffix = {".md": "markdown"}
exclude_patterns = ["_build"]
myst_heading_anchors = 3
myst_enable_extensions = ["deflist"]

html_theme = "furo"
html_title = f"django-signal-panel {release}"
html_static_path: list[str] = []

# Signatures name parameters and defaults; what they are is said in each docstring.
autodoc_typehints = "none"
autodoc_member_order = "bysource"

# The build runs offline (no intersphinx): references to the standard library, Django, blinker
# and pytest are not resolved, and nitpicky mode (-n) would report each one.
nitpick_ignore_regex = [
    (r"py:.*", r"(builtins|collections|contextlib|typing|re|types|asyncio)(\..*)?"),
    (r"py:.*", r"(django|blinker|debug_toolbar|pytest|unittest)(\..*)?"),
    (r"py:.*", r"(str|int|float|bool|bytes|object|list|dict|tuple|set|None|type)"),
    (r"py:.*", r"(Any|Iterable|Iterator|Callable|Sequence|Mapping)"),
]
