"""The vanilla side of the benchmarks: the workloads in a process that never imports signal_panel.

Started by ``harness.VanillaWorker`` (with ``--quick`` for a smoke run), which sends one JSON
request per line on stdin, ``{"workload": name}``, and reads one JSON answer per line on stdout,
``{"value": figure, "pristine": true}``. The first line it writes says it is set up and which
versions it runs; it stops at end of input. Every sample runs while the other process waits for
its answer, so the two never compete for the CPU. ``pristine`` says ``signal_panel`` is still not
in ``sys.modules``.
"""

from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import workloads


def main() -> None:
    workloads.configure(instrumented=False, quick="--quick" in sys.argv[1:])
    measured = workloads.workloads()
    pristine = "signal_panel" not in sys.modules
    print(json.dumps({"ready": True, "versions": workloads.versions(), "pristine": pristine}))
    sys.stdout.flush()
    for line in sys.stdin:
        request = json.loads(line)
        value = measured[request["workload"]].measure(contextlib.nullcontext)
        pristine = pristine and "signal_panel" not in sys.modules
        print(json.dumps({"value": value, "pristine": pristine}))
        sys.stdout.flush()


if __name__ == "__main__":
    main()
