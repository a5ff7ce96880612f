"""The benchmark scripts run to the end and print every row of their table (``--quick``).

No timing is asserted: a unit test cannot know how busy the machine is. The figures are the
scripts' report; this only keeps the scripts working.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

OVERHEAD_ROWS = [
    "stream 3,000 rows, .iterator(), time",
    "stream 3,000 rows, traced peak memory",
    "save cascade, Order.objects.create(), per create",
    "one send, 0 receivers, recording",
    "one send, 1 receiver, in IGNORE_SIGNALS, recording",
    "one send, 1 trivial receiver, recording",
    "one send, 5 trivial receivers, recording",
    "idle (installed, nothing recording)",
    "memory per recorded receiver call, 1 per send",
    "memory per recorded receiver call, 5 per send",
    "blinker: one send, 1 receiver, recording",
    "blinker: one send, 5 receivers, recording",
    "a query run by a receiver, per query, recording",
    "an on_commit callback queued by a receiver, run at commit, recording",
]
PANEL_RENDER_ROWS = [
    f"{scenario}: {figure}"
    for scenario in ("save loop", "all different", "nested")
    for figure in ("panel_stats + render_content", "HTML size")
]


FLOOR_ROWS = [
    "one send, 0 receivers: floor",
    "one send, 1 receiver (as in IGNORE_SIGNALS): floor",
]
REAL_PAGE_ROWS = [
    "real page, toolbar + panel vs toolbar",
    "real page, ratio of the fastest rounds",
    "real page, garbage collections/request",
    "real page, the panel's stored stats",
]


def run_quick(script: str) -> str:
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    completed = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / script), "--quick"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    return completed.stdout


def table_rows(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.endswith(("met", "MISSED", "report"))]


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ("overhead.py", OVERHEAD_ROWS),
        ("panel_render.py", PANEL_RENDER_ROWS),
        ("run.py", OVERHEAD_ROWS + PANEL_RENDER_ROWS),
        ("real_page.py", REAL_PAGE_ROWS),
        ("floor.py", FLOOR_ROWS),
    ],
)
def test_script_prints_every_row(script: str, expected: list[str]) -> None:
    output = run_quick(script)
    rows = table_rows(output)
    assert len(rows) == len(expected), output
    for row, start in zip(rows, expected, strict=True):
        assert start in row, output
    assert "Django " in output.splitlines()[0]
    assert output.rstrip().splitlines()[-1].startswith(("Missed targets: ", "All targets met."))
