"""What recording costs on real workloads, side by side with vanilla Django and blinker.

Run: ``python benchmarks/overhead.py [--rounds N] [--quick]`` (``make bench`` runs it, then
``benchmarks/panel_render.py``; ``benchmarks/run.py`` runs both into one table).

Variants of every workload:

- vanilla: the workload in a separate process that never imports ``signal_panel``
  (``vanilla_worker.py``; it checks that the module is absent after every sample). Nothing of
  the package can be active there, whatever it patches and whenever it patches it, so this is a
  pristine baseline for every row, the idle row included.
- idle: this process, with ``signal_panel`` in ``INSTALLED_APPS`` and installed, nothing recording
  in its context (every request the toolbar does not record). The recording variant has run by
  then, so the recorded methods are on the classes, as they stay from a process's first recording
  on: the idle variant runs Django's functions behind their check that nothing records.
- recording: this process, the workload inside ``with record_signals():`` with default settings,
  one recording per sample, as a request is recorded.

Why a second process rather than Django's functions captured before ``signal_panel`` is imported:
the capture would have to know every attribute the package replaces (today the send methods, a
few ORM methods and ``connect``/``disconnect``/``__init__``), and would silently measure a patched
baseline the day it replaces one more. The price is that the two processes differ in memory layout
and the like: the idle column, where the same code runs in both, shows that difference (within a
few per cent, and both ways, on a noisy machine). ``vanilla_worker.py`` says why the two processes
never compete for the CPU.

Both processes have the same settings, apps, tables and rows (``workloads.configure``); only
``signal_panel`` differs. The variants of each workload are interleaved (vanilla, idle,
recording, in an order that rotates every round), and all workloads are sampled in every round,
so slow spells of a shared machine fall on every variant alike. One process runs at a time: this
one waits for the worker's answer. The garbage collector stays on, as in a request, and runs
before each sample so none starts with another's garbage. Each figure is the minimum over the
rounds: other work on the machine only ever makes a sample slower, so the fastest one is the
least disturbed. Ratios are to vanilla.

What each sample times: the whole stream (30,000 rows, ``iterator(chunk_size=2000)``, no
receivers on ``pre_init``/``post_init``) and the whole save cascade loop including entering and
leaving the recording; for the one-send rows only the 2,000 sends inside one recording, so the
ratio is per send. The idle row is the stream's idle variant: with 60,000 sends and no receivers,
it is where any cost left on an idle process shows most; every other row's idle column is there
too. The query row is the cost per query run inside a recorded receiver call (counted and timed on
the call), reported without a target.

Memory is traced with tracemalloc (in fewer rounds: tracing is slow): the peak while streaming,
above what was traced before, and the bytes a recording keeps per receiver call.

Sanity checks after each recorded sample (how many sends and calls were recorded) make sure each
row measures what it says; a failed check stops the run. Only the public API is used:
``install()``, ``record_signals(config)``, the recording's ``sends``/``calls``/``truncated``, and
``conf.get_config()`` to build the config that lists the ignored signal.
"""

from __future__ import annotations

import contextlib
import gc
import sys
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import workloads
from benchmarks.harness import Options, Section, VanillaWorker, main
from benchmarks.report import NO_FIGURE, Row, format_bytes, format_seconds

VARIANTS = ("vanilla", "idle", "recording")

#: Receiver calls per recording when measuring the memory a call keeps (under ``MAX_CALLS``).
MEMORY_CALLS = 5000

#: Targets: workload key -> (label, largest ratio to vanilla, or None to report only).
TIMED: dict[str, tuple[str, float | None]] = {
    "stream": ("stream {rows:,} rows, .iterator(), time", 1.3),
    "save_cascade": ("save cascade, Order.objects.create(), per create", 1.1),
    "send_0": ("one send, 0 receivers, recording", 2.0),
    "send_ignored": ("one send, 1 receiver, in IGNORE_SIGNALS, recording", 1.1),
    "send_1": ("one send, 1 trivial receiver, recording", 2.5),
    "send_5": ("one send, 5 trivial receivers, recording", 2.0),
}
#: Reported without a target.
REPORTED: dict[str, str] = {
    "blinker_1": "blinker: one send, 1 receiver, recording",
    "blinker_5": "blinker: one send, 5 receivers, recording",
    "queries": "a query run by a receiver, per query, recording",
    "on_commit": "an on_commit callback queued by a receiver, run at commit, recording",
}
#: The idle row: the workload where an idle cost would show most, its rows' sends being
#: 60,000 ``pre_init``/``post_init`` with no receivers.
IDLE_WORKLOAD = "stream"
IDLE_TARGET = 1.02
STREAM_MEMORY_TARGET = 1_000_000
MEMORY_PER_CALL_TARGET = 512


class Recorder:
    """``record_signals(config)`` as a recorder; :meth:`check` checks the last recording (after
    the timed part) and drops it."""

    def __init__(self, workload: str, config: Any = None) -> None:
        self.workload = workload
        self.config = config
        self._last: Any = None

    @contextlib.contextmanager
    def __call__(self) -> Iterator[Any]:
        from signal_panel import record_signals

        with record_signals(self.config) as recording:
            yield recording
        self._last = recording

    def check(self) -> None:
        # Dropped after its check: a big recording kept alive would make every later collection
        # in this process slower, and with it the idle variant.
        recording, self._last = self._last, None
        _expect(self.workload, recording)


def _expect(workload: str, recording: Any) -> None:
    """Fail the run if ``recording`` does not hold what ``workload`` sent."""
    sends = receivers = None
    if workload == "save_cascade":
        # pre_init, post_init, pre_save, post_save and order_placed per create; one receiver on
        # each of the last three.
        receivers = 3 * workloads.scale.creates
    elif workload in ("queries", "on_commit"):
        sends = receivers = 1
    elif workload.startswith(("send_", "blinker_")):
        if workload == "send_ignored":
            sends = receivers = 0
        else:
            sends = workloads.scale.sends
            receivers = int(workload.rsplit("_", 1)[1]) * sends
    # Sends that reached no receiver are stored folded: count each of them.
    recorded = sum(send.count for send in recording.sends)
    if sends is not None and recorded != sends:
        raise RuntimeError(f"{workload}: {recorded} sends recorded, not {sends}")
    if receivers is not None and len(recording.calls) != receivers:
        raise RuntimeError(f"{workload}: {len(recording.calls)} calls recorded, not {receivers}")
    if recording.truncated:
        raise RuntimeError(f"{workload}: the recording was truncated")


def _ignoring_config() -> Any:
    """The config of a recording whose ``IGNORE_SIGNALS`` lists ``stock_checked``.

    Only the ignored-signal row records with it: a non-empty ``IGNORE_SIGNALS`` may cost every
    recorded send something, and the other rows measure the default settings.
    """
    from django.test import override_settings

    from benchmarks.benchapp.signals import IGNORED_SIGNAL
    from signal_panel.conf import get_config

    with override_settings(SIGNAL_PANEL={"IGNORE_SIGNALS": [IGNORED_SIGNAL]}):
        return get_config()


def measure(options: Options, worker: VanillaWorker) -> dict[tuple[str, str], float]:
    """The minimum of each workload's samples, by ``(workload, variant)``."""
    measured = workloads.workloads()
    ignoring = _ignoring_config()
    recorders = {
        name: Recorder(name, ignoring if name == "send_ignored" else None) for name in measured
    }
    samples: dict[tuple[str, str], list[float]] = {}
    for number in range(options.rounds):
        order = VARIANTS[number % 3 :] + VARIANTS[: number % 3]
        for name, workload in measured.items():
            if workload.unit == "bytes" and number >= options.memory_rounds:
                continue
            for variant in order:
                if variant == "vanilla":
                    value = worker.measure(name)
                elif variant == "idle":
                    value = workload.measure(contextlib.nullcontext)
                else:
                    value = workload.measure(recorders[name])
                    recorders[name].check()
                samples.setdefault((name, variant), []).append(value)
    return {key: min(values) for key, values in samples.items()}


def memory_per_call(receivers: int) -> float:
    """Traced bytes a recording holds per receiver call, over ``MEMORY_CALLS`` calls of one
    recording (``receivers`` trivial receivers per send)."""
    from django.dispatch import Signal

    from benchmarks.benchapp.models import Item
    from signal_panel import record_signals

    signal = Signal()
    connected: list[Callable[..., None]] = []
    for number in range(receivers):

        def receiver(sender: Any, **kwargs: Any) -> None:
            return None

        receiver.__qualname__ = f"memory_receiver_{number}"
        signal.connect(receiver, weak=False)
        connected.append(receiver)
    item = Item(pk=1, name="item")
    gc.collect()
    tracemalloc.start()
    try:
        with record_signals() as recording:
            gc.collect()
            before = tracemalloc.get_traced_memory()[0]
            for _ in range(MEMORY_CALLS // receivers):
                signal.send(sender=Item, instance=item, created=True)
            gc.collect()
            after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    calls = len(recording.calls)
    if calls != MEMORY_CALLS // receivers * receivers:
        raise RuntimeError(f"memory per call: {calls} calls recorded")
    return (after - before) / calls


def _ratio(value: float) -> str:
    return f"{value:.2f}x"


def rows(options: Options, worker: VanillaWorker | None) -> list[Row]:
    assert worker is not None
    best = measure(options, worker)
    table: list[Row] = []

    def timed_row(name: str, label: str, target: float | None) -> Row:
        vanilla, idle, recording = (best[name, variant] for variant in VARIANTS)
        ratio = recording / vanilla
        return Row(
            workload=label.format(rows=workloads.scale.stream_rows),
            vanilla=format_seconds(vanilla),
            idle=_ratio(idle / vanilla),
            recording=format_seconds(recording),
            measured=_ratio(ratio),
            target=NO_FIGURE if target is None else f"<= {target:.2f}x",
            met=None if target is None else ratio <= target,
        )

    table.append(timed_row("stream", *TIMED["stream"]))
    vanilla, idle, recording = (best["stream_memory", variant] for variant in VARIANTS)
    table.append(
        Row(
            workload=f"stream {workloads.scale.stream_rows:,} rows, traced peak memory",
            vanilla=format_bytes(vanilla),
            idle=format_bytes(idle),
            recording=format_bytes(recording),
            measured="+" + format_bytes(recording - vanilla),
            target=f"<= vanilla + {format_bytes(STREAM_MEMORY_TARGET)}",
            met=recording - vanilla <= STREAM_MEMORY_TARGET,
        )
    )
    for name in ("save_cascade", "send_0", "send_ignored", "send_1", "send_5"):
        table.append(timed_row(name, *TIMED[name]))
    idle_ratio = best[IDLE_WORKLOAD, "idle"] / best[IDLE_WORKLOAD, "vanilla"]
    table.append(
        Row(
            workload="idle (installed, nothing recording): "
            + TIMED[IDLE_WORKLOAD][0].format(rows=workloads.scale.stream_rows),
            vanilla=format_seconds(best[IDLE_WORKLOAD, "vanilla"]),
            idle=format_seconds(best[IDLE_WORKLOAD, "idle"]),
            recording=NO_FIGURE,
            measured=_ratio(idle_ratio),
            target=f"<= {IDLE_TARGET:.2f}x",
            met=idle_ratio <= IDLE_TARGET,
        )
    )
    for receivers in (1, 5):
        per_call = min(memory_per_call(receivers) for _ in range(options.memory_rounds))
        table.append(
            Row(
                workload=f"memory per recorded receiver call, {receivers} per send",
                vanilla=NO_FIGURE,
                idle=NO_FIGURE,
                recording=NO_FIGURE,
                measured=format_bytes(per_call),
                target=f"<= {MEMORY_PER_CALL_TARGET} B",
                met=per_call <= MEMORY_PER_CALL_TARGET,
            )
        )
    for name, label in REPORTED.items():
        table.append(timed_row(name, label, None))
    return table


SECTION = Section("overhead", needs_vanilla=True, rows=rows)

if __name__ == "__main__":
    sys.exit(main(__doc__.splitlines()[0], [SECTION]))
