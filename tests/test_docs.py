"""README.md documents every setting with the default the code uses."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from signal_panel.conf import DEFAULTS

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


def settings_section() -> str:
    return README.split("## Settings", 1)[1].split("\n## ", 1)[0]


def test_readme_defaults_block_matches_the_code() -> None:
    block = re.search(r"```python\nSIGNAL_PANEL = (\{.*?\n\})\n```", settings_section(), re.S)
    assert block is not None, "README's Settings section lost its defaults block"
    assert ast.literal_eval(block.group(1)) == DEFAULTS


def test_readme_explains_every_setting() -> None:
    explained = re.findall(r"^\| `([A-Z_]+)` \|", settings_section(), re.M)
    assert sorted(explained) == sorted(DEFAULTS)
