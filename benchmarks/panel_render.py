"""What showing a big recording costs: the panel's stats and HTML for 10,000 receiver calls.

Run: ``python benchmarks/panel_render.py [--rounds N] [--quick]`` (``make bench`` runs it after
``benchmarks/overhead.py``; ``benchmarks/run.py`` runs both into one table).

For each recording below, of 10,000 receiver calls (the default ``MAX_CALLS``), it times what the
panel does after the request: ``panel_stats(recording)`` (``generate_stats``) and
``render_content(stats)`` (the panel's content), and measures the HTML's size. Every round
records afresh, as each request does, and only the two calls are timed; the figure is the fastest
round (other work on a shared machine only ever slows a round down). Targets: under 250 ms, under
2 MB of HTML.

Recordings (``SLOW_RECEIVER_MS`` is raised to 1000 so that a receiver slowed down by a busy machine
does not end a folded run, which would make the figures depend on the machine's load):

- save loop: 3,333 ``Order.objects.create()``, each a save cascade (three receiver calls and one
  query): alike sends fold into runs;
- all different: 10,000 sends of one signal from 10,000 different senders, one receiver each:
  nothing folds, so the timeline stops at its row limit;
- nested: 2,500 sends whose two receivers are a trivial one and one that sends another signal
  with two receivers: nested rows.
"""

from __future__ import annotations

import gc
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.harness import Options, Section, VanillaWorker, main
from benchmarks.report import NO_FIGURE, Row, format_bytes

CALLS = 10_000
TARGET_SECONDS = 0.250
TARGET_BYTES = 2_000_000


def _audit(sender: Any, **kwargs: Any) -> None:
    return None


def _touch_search_index(sender: Any, **kwargs: Any) -> None:
    return None


def _reserve_stock(sender: Any, **kwargs: Any) -> None:
    from benchmarks.benchapp.signals import stock_reserved

    stock_reserved.send(sender=sender, quantity=1)


def save_loop() -> None:
    from benchmarks.benchapp.models import Order

    for number in range(CALLS // 3):
        Order.objects.create(item_id=number % 100 + 1, quantity=number % 3 + 1)


def all_different() -> None:
    from benchmarks.benchapp.signals import page_viewed

    for number in range(CALLS):
        page_viewed.send(sender=f"page-{number}", visitor=number, seconds=number * 1.5)


def nested() -> None:
    from benchmarks.benchapp.signals import cart_checked_out

    for number in range(CALLS // 4):
        cart_checked_out.send(sender=f"shop-{number % 10}", cart=number)


SCENARIOS: dict[str, Callable[[], None]] = {
    "save loop": save_loop,
    "all different": all_different,
    "nested": nested,
}


def _connect() -> None:
    from benchmarks.benchapp.signals import cart_checked_out, page_viewed, stock_reserved

    page_viewed.connect(_audit, dispatch_uid="bench-page-audit")
    cart_checked_out.connect(_reserve_stock, dispatch_uid="bench-reserve")
    cart_checked_out.connect(_audit, dispatch_uid="bench-cart-audit")
    stock_reserved.connect(_audit, dispatch_uid="bench-stock-audit")
    stock_reserved.connect(_touch_search_index, dispatch_uid="bench-stock-index")


def _disconnect() -> None:
    from benchmarks.benchapp.signals import cart_checked_out, page_viewed, stock_reserved

    page_viewed.disconnect(dispatch_uid="bench-page-audit")
    cart_checked_out.disconnect(dispatch_uid="bench-reserve")
    cart_checked_out.disconnect(dispatch_uid="bench-cart-audit")
    stock_reserved.disconnect(dispatch_uid="bench-stock-audit")
    stock_reserved.disconnect(dispatch_uid="bench-stock-index")


def measure(name: str, rounds: int) -> tuple[float, int, int]:
    """The fastest round's seconds for ``panel_stats`` + ``render_content``, the HTML's bytes and
    the receiver calls recorded, for a fresh recording of scenario ``name`` each round."""
    from django.test import override_settings

    from benchmarks.benchapp.models import Order
    from signal_panel import record_signals
    from signal_panel.conf import get_config
    from signal_panel.panels import render_content
    from signal_panel.stats import panel_stats

    with override_settings(SIGNAL_PANEL={"SLOW_RECEIVER_MS": 1000}):
        config = get_config()
    best, size, calls = float("inf"), 0, 0
    for _ in range(rounds):
        with record_signals(config) as recording:
            SCENARIOS[name]()
        Order.objects.all().delete()
        calls = len(recording.calls)
        if recording.truncated or calls < CALLS - 3:
            raise RuntimeError(f"{name}: {calls} calls recorded (truncated: {recording.truncated})")
        gc.collect()
        start = time.perf_counter()
        html = render_content(panel_stats(recording))
        best = min(best, time.perf_counter() - start)
        size = len(html.encode())
    return best, size, calls


def rows(options: Options, worker: VanillaWorker | None) -> list[Row]:
    table = []
    _connect()
    try:
        for name in SCENARIOS:
            seconds, size, calls = measure(name, options.render_rounds)
            label = f"panel render, {calls:,} calls, {name}"
            table.append(
                Row(
                    workload=f"{label}: panel_stats + render_content",
                    vanilla=NO_FIGURE,
                    idle=NO_FIGURE,
                    recording=NO_FIGURE,
                    measured=f"{seconds * 1000:.1f} ms",
                    target=f"< {TARGET_SECONDS * 1000:.0f} ms",
                    met=seconds < TARGET_SECONDS,
                )
            )
            table.append(
                Row(
                    workload=f"{label}: HTML size",
                    vanilla=NO_FIGURE,
                    idle=NO_FIGURE,
                    recording=NO_FIGURE,
                    measured=format_bytes(size),
                    target=f"< {format_bytes(TARGET_BYTES)}",
                    met=size < TARGET_BYTES,
                )
            )
    finally:
        _disconnect()
    return table


SECTION = Section("panel render", needs_vanilla=False, rows=rows)

if __name__ == "__main__":
    sys.exit(main(__doc__.splitlines()[0], [SECTION]))
