"""Every benchmark in one run and one table: overhead.py, then panel_render.py.

Run: ``python benchmarks/run.py [--rounds N] [--quick]``. See each script's docstring for what
it measures and how.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import overhead, panel_render
from benchmarks.harness import main

if __name__ == "__main__":
    sys.exit(main(__doc__.splitlines()[0], [overhead.SECTION, panel_render.SECTION]))
