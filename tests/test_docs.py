"""docs/settings.md documents every setting with the default the code uses."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from signal_panel.conf import DEFAULTS

SETTINGS_PAGE = (Path(__file__).resolve().parent.parent / "docs" / "settings.md").read_text()


def documented_defaults() -> dict[str, object]:
    """``{key: default}`` from each ``## `KEY``` section's ``Default: `...``` line."""
    sections = re.findall(r"^## `([A-Z_]+)`\n\nDefault: `(.*)`$", SETTINGS_PAGE, re.M)
    return {key: ast.literal_eval(default) for key, default in sections}


def test_every_setting_has_a_section_with_its_default() -> None:
    assert documented_defaults() == DEFAULTS


def test_every_setting_section_explains_it() -> None:
    for key in DEFAULTS:
        section = SETTINGS_PAGE.split(f"## `{key}`\n", 1)[1].split("\n## ", 1)[0]
        explanation = section.strip().split("\n\n", 1)[1]
        assert len(explanation) > 20, f"{key} has no explanation"


def test_the_defaults_block_matches_the_code() -> None:
    block = re.search(
        r"```python\n# settings.py\nSIGNAL_PANEL = (\{.*?\n\})\n```", SETTINGS_PAGE, re.S
    )
    assert block is not None, "docs/settings.md lost its defaults block"
    assert ast.literal_eval(block.group(1)) == DEFAULTS
