"""The benchmarks' one table: a row per workload, its target, and whether the target was met."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["NO_FIGURE", "Row", "format_bytes", "format_seconds", "print_table"]

NO_FIGURE = "-"


@dataclass(frozen=True)
class Row:
    """One line of the table.

    ``vanilla``, ``idle`` and ``recording`` are the variants' figures as shown; ``measured`` is
    the figure the target is about (a ratio to vanilla, bytes, milliseconds); ``met`` is None for
    a row reported without a target.
    """

    workload: str
    vanilla: str
    idle: str
    recording: str
    measured: str
    target: str
    met: bool | None

    @property
    def result(self) -> str:
        if self.met is None:
            return "report"
        return "met" if self.met else "MISSED"


_HEADER = Row("workload", "vanilla", "idle", "recording", "measured", "target", None)


def format_seconds(seconds: float) -> str:
    """``seconds`` in the unit that keeps three or four significant digits."""
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.1f} ms"
    if seconds >= 1e-6:
        return f"{seconds * 1e6:.1f} us"
    return f"{seconds * 1e9:.0f} ns"


def format_bytes(count: float) -> str:
    """``count`` bytes in B, kB or MB (powers of 1000, as the targets are written)."""
    if abs(count) >= 1e6:
        return f"{count / 1e6:.2f} MB"
    if abs(count) >= 1e3:
        return f"{count / 1e3:.1f} kB"
    return f"{count:.0f} B"


def print_table(rows: Sequence[Row]) -> list[str]:
    """Print ``rows`` under a header, then the missed targets; return those missed."""
    cells = [
        (r.workload, r.vanilla, r.idle, r.recording, r.measured, r.target, r.result)
        for r in (_HEADER, *rows)
    ]
    cells[0] = (*cells[0][:-1], "result")
    widths = [max(len(row[column]) for row in cells) for column in range(len(cells[0]))]

    def line(row: Sequence[str]) -> str:
        first, *rest = row
        return "  ".join(
            [first.ljust(widths[0])] + [c.rjust(w) for c, w in zip(rest, widths[1:], strict=True)]
        )

    print(line(cells[0]))
    print("  ".join("-" * width for width in widths))
    for row in cells[1:]:
        print(line(row))
    missed = [f"{r.workload} ({r.measured}, target {r.target})" for r in rows if r.met is False]
    print()
    print("Missed targets: " + "; ".join(missed) if missed else "All targets met.")
    return missed
