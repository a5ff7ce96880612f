"""The floor under the one-send targets: what any pure-Python wrapper of ``Signal.send`` costs.

Run: ``python benchmarks/floor.py [--rounds N] [--quick]``.

The recorder replaces ``Signal.send`` with a Python function while something records. Before it
records anything, such a function must at least be called and call Django's own ``send`` with the
same arguments, and it must read which recording is active in the context (one
``ContextVar.get()``). This script measures exactly that, side by side in one process, with the
arguments of the one-send rows of ``overhead.py`` (``instance=item, created=True``):

- *vanilla*: Django's ``Signal.send``;
- *pass-through*: ``def send(self, sender, **named): return django_send(self, sender, **named)``;
- *pass-through + context*: the same after one ``ContextVar.get()``.

No recording code runs. The ratios are the lowest any pure-Python recorder can reach on these
rows; ``overhead.py``'s targets for the same rows are printed beside them.
"""

from __future__ import annotations

import os
import sys
import timeit
from contextvars import ContextVar
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.harness import parse_rounds


def main() -> int:
    rounds, quick = parse_rounds(__doc__.splitlines()[0], rounds=9, quick_rounds=3)
    number = 2_000 if quick else 100_000

    import django
    from django.conf import settings

    settings.configure()
    django.setup()
    from django.dispatch import Signal

    from benchmarks.overhead import TIMED

    django_send = Signal.send
    state: ContextVar[tuple[Any, ...]] = ContextVar("state", default=())

    def pass_through(self: Signal, sender: Any, **named: Any) -> Any:
        return django_send(self, sender, **named)

    def pass_through_context(self: Signal, sender: Any, **named: Any) -> Any:
        if not state.get():
            return django_send(self, sender, **named)
        return django_send(self, sender, **named)

    class Item:
        pass

    item = Item()
    quiet, busy = Signal(), Signal()

    def receiver(sender: Any, **kwargs: Any) -> None:
        pass

    busy.connect(receiver, weak=False)
    variants = {"vanilla": django_send, "pass": pass_through, "context": pass_through_context}
    best: dict[tuple[str, str], float] = {}
    try:
        for _ in range(rounds):
            for signal_name, signal in (("0", quiet), ("1", busy)):
                for variant, method in variants.items():
                    Signal.send = method  # type: ignore[method-assign]
                    seconds = timeit.timeit(
                        lambda s=signal: s.send(sender=None, instance=item, created=True),
                        number=number,
                    )
                    key = (signal_name, variant)
                    best[key] = min(best.get(key, float("inf")), seconds / number)
    finally:
        Signal.send = django_send  # type: ignore[method-assign]

    load = ", ".join(f"{figure:.2f}" for figure in os.getloadavg())
    print(
        f"Python {sys.version.split()[0]}, Django {django.get_version()}; {rounds} rounds of "
        f"{number:,} sends; {os.cpu_count()} CPUs, load average {load}\n"
    )
    header = f"{'workload':<52} {'vanilla':>8} {'pass':>7} {'+ context':>9} {'target':>7}"
    print(header)
    print("-" * len(header))
    below: list[str] = []
    for signal_name, target_key, label in (
        ("0", "send_0", "one send, 0 receivers: floor"),
        ("1", "send_ignored", "one send, 1 receiver (as in IGNORE_SIGNALS): floor"),
    ):
        vanilla = best[(signal_name, "vanilla")]
        ratio_pass = best[(signal_name, "pass")] / vanilla
        ratio_context = best[(signal_name, "context")] / vanilla
        target = TIMED[target_key][1]
        print(
            f"{label:<52} {vanilla * 1e9:>6.0f}ns {ratio_pass:>6.2f}x {ratio_context:>8.2f}x "
            f"{f'<= {target:.2f}x' if target else '-':>7}  report"
        )
        if target is not None and ratio_context > target:
            below.append(f"{TIMED[target_key][0]} (<= {target:.2f}x; floor {ratio_context:.2f}x)")
    if below:
        print(
            f"\nMissed targets: below this floor, out of reach of any recorder: {'; '.join(below)}"
        )
    else:
        print("\nAll targets met.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
