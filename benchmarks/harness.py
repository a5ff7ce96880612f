"""What every benchmark script shares: options, the vanilla worker process, the run and its table.

A script is a list of sections; each section measures its workloads and returns table rows.
:func:`main` sets up Django (with ``signal_panel`` installed) in this process, starts the vanilla
worker if a section needs it, prints the environment, runs the sections and prints one table.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import workloads
from benchmarks.report import Row, print_table

__all__ = ["Options", "Section", "VanillaWorker", "Worker", "main"]


@dataclass(frozen=True)
class Options:
    """How many times each workload is measured (the fastest / smallest figure is kept)."""

    rounds: int
    memory_rounds: int
    render_rounds: int
    quick: bool


@dataclass(frozen=True)
class Section:
    """A part of the table: ``rows(options, worker)`` measures and returns its rows; ``worker`` is
    the vanilla worker when ``needs_vanilla``, else None."""

    name: str
    needs_vanilla: bool
    rows: Callable[[Options, VanillaWorker | None], list[Row]]


class Worker:
    """A process without ``signal_panel`` that answers one JSON line per line asked, each with
    ``"pristine"``: whether ``signal_panel`` is still not in its ``sys.modules``. Its first line
    says it is set up."""

    name = "worker"

    def __init__(self, command: Sequence[str]) -> None:
        self._process = subprocess.Popen(
            [sys.executable, *command], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )

    def _answer(self) -> dict[str, Any]:
        assert self._process.stdout is not None
        line = self._process.stdout.readline()
        if not line:
            raise RuntimeError(f"the {self.name} stopped (exit status {self._process.wait()})")
        answer: dict[str, Any] = json.loads(line)
        if not answer["pristine"]:
            raise RuntimeError(f"signal_panel was imported in the {self.name}")
        return answer

    def _ask(self, line: str) -> dict[str, Any]:
        """Send ``line``; the answer, given while this process waits."""
        assert self._process.stdin is not None
        self._process.stdin.write(line + "\n")
        self._process.stdin.flush()
        return self._answer()

    def close(self) -> None:
        if self._process.stdin is not None:
            self._process.stdin.close()
        self._process.wait()


class VanillaWorker(Worker):
    """The workloads of :mod:`benchmarks.workloads` run in a process that never imports
    ``signal_panel`` (``vanilla_worker.py``), one sample per request."""

    name = "vanilla worker"

    def __init__(self, *, quick: bool) -> None:
        script = Path(__file__).resolve().parent / "vanilla_worker.py"
        super().__init__([str(script), *(["--quick"] if quick else [])])
        self._versions: dict[str, str] | None = None

    def versions(self) -> dict[str, str]:
        """The versions the worker runs (waits until it is set up)."""
        if self._versions is None:
            self._versions = self._answer()["versions"]
        return self._versions

    def measure(self, workload: str) -> float:
        """One sample of ``workload``, run in the worker while this process waits."""
        self.versions()
        return float(self._ask(json.dumps({"workload": workload}))["value"])


def _parsed(description: str, argv: Sequence[str] | None, rounds: int) -> argparse.Namespace:
    """``--rounds N`` (``rounds`` when not given: ``args.rounds`` is then None) and ``--quick``."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--rounds", type=int, default=None, help=f"rounds of the timed workloads ({rounds})"
    )
    parser.add_argument("--quick", action="store_true", help="a fast smoke run: few rounds")
    args = parser.parse_args(argv)
    if args.rounds is not None and args.rounds < 1:
        parser.error("--rounds must be at least 1")
    return args


def parse_options(description: str, argv: Sequence[str] | None, rounds: int) -> Options:
    args = _parsed(description, argv, rounds)
    if args.quick:
        return Options(rounds=args.rounds or 3, memory_rounds=1, render_rounds=1, quick=True)
    count = args.rounds or rounds
    return Options(
        rounds=count, memory_rounds=min(2, count), render_rounds=min(5, count), quick=False
    )


def parse_rounds(
    description: str, rounds: int, quick_rounds: int, argv: Sequence[str] | None = None
) -> tuple[int, bool]:
    """The options of a script with one kind of round: how many rounds to run (``--rounds``,
    else ``rounds``, or ``quick_rounds`` with ``--quick``) and whether it is a smoke run."""
    args = _parsed(description, argv, rounds)
    if args.quick:
        return args.rounds or quick_rounds, True
    return args.rounds or rounds, False


def main(description: str, sections: Sequence[Section], argv: Sequence[str] | None = None) -> int:
    """Run ``sections`` and print their rows as one table. Returns 0: missed targets are
    reported, not failures."""
    options = parse_options(description, argv, rounds=25)
    # Started first, so that both processes create their tables and rows at the same time.
    worker = (
        VanillaWorker(quick=options.quick)
        if any(section.needs_vanilla for section in sections)
        else None
    )
    try:
        workloads.configure(instrumented=True, quick=options.quick)
        import signal_panel

        signal_panel.install()
        versions = workloads.versions()
        if worker is not None and worker.versions() != versions:
            raise RuntimeError(f"the vanilla worker runs {worker.versions()}, not {versions}")
        load = ", ".join(f"{figure:.2f}" for figure in os.getloadavg())
        print(
            ", ".join(f"{name} {number}" for name, number in versions.items())
            + f"; {options.rounds} rounds ({options.memory_rounds} of memory, "
            f"{options.render_rounds} of panel render){'; quick' if options.quick else ''}"
            f"; garbage collector {'on' if gc.isenabled() else 'off'}"
            f"; {os.cpu_count()} CPUs, load average {load}"
        )
        rows = []
        for section in sections:
            print(f"measuring: {section.name} ...", flush=True)
            rows.extend(section.rows(options, worker))
    finally:
        if worker is not None:
            worker.close()
    print()
    print_table(rows)
    return 0
