"""The workloads the benchmarks time, written against Django and blinker only.

This module never imports ``signal_panel``: the vanilla worker process (``vanilla_worker.py``) runs
the same workloads from here in a process where the package was never imported, so nothing of it
can be active there. Each workload takes a *recorder*, a context manager factory put around the
work as a request would be (``contextlib.nullcontext`` for the vanilla and idle variants,
``record_signals`` for the recorded one), and returns seconds per unit of work or traced bytes.
"""

from __future__ import annotations

import contextlib
import gc
import sys
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

import django
from django.conf import settings

#: ``iterator()``'s chunk size.
CHUNK_SIZE = 2000


@dataclass(frozen=True)
class Scale:
    """How much work one sample does."""

    #: Rows streamed by the stream workloads.
    stream_rows: int
    #: ``Order.objects.create()`` calls per sample of the save cascade.
    creates: int
    #: Sends per sample of the one-send workloads.
    sends: int
    #: Queries per sample, run by one receiver call.
    queries: int


FULL = Scale(stream_rows=30_000, creates=50, sends=2000, queries=200)
#: ``--quick``: a smoke run, a tenth of the rows and fewer creates, sends and queries.
QUICK = Scale(stream_rows=3000, creates=20, sends=500, queries=50)
#: The scale this process runs at, set by :func:`configure`.
scale = FULL

Recorder = Callable[[], contextlib.AbstractContextManager[Any]]
Unit = Literal["seconds", "bytes"]


def configure(*, instrumented: bool, quick: bool = False) -> None:
    """Configure Django as a small project on in-memory SQLite, set it up, create the tables and
    the rows to stream, at the :class:`Scale` of ``quick``.

    ``instrumented`` adds ``signal_panel`` to ``INSTALLED_APPS`` (as a project using the panel
    has it); everything else is the same in both processes.
    """
    global scale
    scale = QUICK if quick else FULL
    apps = [
        "django.contrib.contenttypes",
        "django.contrib.auth",
        "django.contrib.staticfiles",
        "debug_toolbar",
        "benchmarks.benchapp",
    ]
    if instrumented:
        apps.insert(apps.index("debug_toolbar") + 1, "signal_panel")
    settings.configure(
        DEBUG=False,
        SECRET_KEY="benchmarks-only",
        INSTALLED_APPS=apps,
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
        TEMPLATES=[
            {"BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True}
        ],
        STATIC_URL="/static/",
        USE_TZ=True,
        DEFAULT_AUTO_FIELD="django.db.models.AutoField",
    )
    django.setup()
    from django.core.management import call_command

    from benchmarks.benchapp.models import Item

    call_command("migrate", run_syncdb=True, verbosity=0)
    Item.objects.bulk_create(
        Item(name=f"item {number}", price=Decimal(number % 500) / 4, stock=number % 17)
        for number in range(scale.stream_rows)
    )


def versions() -> dict[str, str]:
    """The versions that decide what the figures mean."""
    from importlib.metadata import version

    return {
        "Python": sys.version.split()[0],
        "Django": django.get_version(),
        "django-debug-toolbar": version("django-debug-toolbar"),
        "blinker": version("blinker"),
    }


# -- measuring ---------------------------------------------------------------------------------


def timed(run: Callable[[], None]) -> float:
    """Seconds ``run()`` takes, with the collector on (as in a request) and no garbage left over
    from the previous sample."""
    gc.collect()
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def traced_peak(run: Callable[[], None]) -> int:
    """The peak of memory traced by tracemalloc while ``run()`` runs, above what was traced when
    it started."""
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        run()
        return tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()


# -- the workloads -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Workload:
    """One workload: ``measure(recorder)`` runs it once and returns its figure in ``unit``."""

    name: str
    unit: Unit
    measure: Callable[[Recorder], float]


def _stream(recorder: Recorder) -> None:
    from benchmarks.benchapp.models import Item

    with recorder():
        for _item in Item.objects.iterator(chunk_size=CHUNK_SIZE):
            pass


def stream_time(recorder: Recorder) -> float:
    """Seconds to stream every ``Item`` with ``iterator()`` (``pre_init`` and ``post_init`` per
    row, no receivers)."""
    return timed(lambda: _stream(recorder))


def stream_memory(recorder: Recorder) -> float:
    """Peak traced bytes while streaming every ``Item``."""
    return float(traced_peak(lambda: _stream(recorder)))


def save_cascade(recorder: Recorder) -> float:
    """Seconds per ``Order.objects.create()``: ``pre_init``/``post_init``, a ``pre_save`` receiver,
    a ``post_save`` receiver that runs a query and sends ``order_placed``, whose receiver runs.
    The orders are deleted afterwards, untimed, so every sample starts from the same table."""
    from benchmarks.benchapp.models import Order

    def run() -> None:
        with recorder():
            for number in range(scale.creates):
                Order.objects.create(item_id=number + 1, quantity=number % 3 + 1)

    seconds = timed(run)
    Order.objects.all().delete()
    return seconds / scale.creates


def trivial_receiver(sender: Any, **kwargs: Any) -> None:
    return None


def _receivers(count: int, prefix: str) -> list[Callable[..., None]]:
    """``count`` distinct trivial receivers (one function object each, so each connects)."""
    made = []
    for number in range(count):

        def receiver(sender: Any, **kwargs: Any) -> None:
            return None

        receiver.__name__ = receiver.__qualname__ = f"{prefix}_receiver_{number}"
        made.append(receiver)
    return made


def django_send(receivers: int) -> Callable[[Recorder], float]:
    """Seconds per ``send()`` of a signal with ``receivers`` trivial receivers, sent the way
    Django sends a model signal."""
    from django.dispatch import Signal

    from benchmarks.benchapp.models import Item

    signal = Signal()
    for receiver in _receivers(receivers, f"django_{receivers}"):
        signal.connect(receiver, weak=False)
    return _send_loop(lambda item: signal.send(sender=Item, instance=item, created=True))


def ignored_send() -> Callable[[Recorder], float]:
    """Seconds per ``send()`` of ``stock_checked`` (one trivial receiver), the signal the recorded
    variant lists in ``IGNORE_SIGNALS``."""
    from benchmarks.benchapp.models import Item
    from benchmarks.benchapp.signals import stock_checked

    stock_checked.connect(trivial_receiver, weak=False)
    return _send_loop(lambda item: stock_checked.send(sender=Item, instance=item, created=True))


def receiver_queries() -> Callable[[Recorder], float]:
    """Seconds per query run by a receiver: one send whose one receiver runs
    ``scale.queries`` times ``Item.objects.filter(pk=1).exists()``."""
    from django.dispatch import Signal

    from benchmarks.benchapp.models import Item

    signal = Signal()

    def run_queries(sender: Any, **kwargs: Any) -> None:
        for _ in range(scale.queries):
            Item.objects.filter(pk=1).exists()

    signal.connect(run_queries, weak=False)

    def measure(recorder: Recorder) -> float:
        def run() -> None:
            with recorder():
                signal.send(sender=Item)

        return timed(run) / scale.queries

    return measure


def receiver_on_commit() -> Callable[[Recorder], float]:
    """Seconds per ``transaction.on_commit()`` callback a receiver queues inside ``atomic()``,
    queued and then run by the commit: one send whose one receiver queues ``scale.queries``
    callbacks."""
    from django.db import transaction
    from django.dispatch import Signal

    from benchmarks.benchapp.models import Item

    signal = Signal()
    ran = [0]

    def callback() -> None:
        ran[0] += 1

    def queue_callbacks(sender: Any, **kwargs: Any) -> None:
        for _ in range(scale.queries):
            transaction.on_commit(callback)

    signal.connect(queue_callbacks, weak=False)

    def measure(recorder: Recorder) -> float:
        def run() -> None:
            # The transaction commits (and runs the callbacks) inside the recording.
            with recorder(), transaction.atomic():
                signal.send(sender=Item)

        before = ran[0]
        seconds = timed(run)
        if ran[0] - before != scale.queries:
            raise RuntimeError(f"on_commit: {ran[0] - before} callbacks ran")
        return seconds / scale.queries

    return measure


def blinker_send(receivers: int) -> Callable[[Recorder], float]:
    """Seconds per ``send()`` of a blinker signal with ``receivers`` trivial receivers."""
    import blinker

    from benchmarks.benchapp.models import Item

    signal = blinker.Signal()
    for receiver in _receivers(receivers, f"blinker_{receivers}"):
        signal.connect(receiver, weak=False)
    return _send_loop(lambda item: signal.send(Item, instance=item, created=True))


def _send_loop(send: Callable[[Any], Any]) -> Callable[[Recorder], float]:
    from benchmarks.benchapp.models import Item

    item = Item(pk=1, name="item", price=Decimal(1))

    def measure(recorder: Recorder) -> float:
        # One recording around the sends (one request); only the sends are timed.
        with recorder():
            seconds = timed(lambda: _repeat(send, item))
        return seconds / scale.sends

    return measure


def _repeat(send: Callable[[Any], Any], item: Any) -> None:
    for _ in range(scale.sends):
        send(item)


def workloads() -> dict[str, Workload]:
    """Every workload measured against vanilla, by key. Call after :func:`configure`."""
    return {
        workload.name: workload
        for workload in (
            Workload("stream", "seconds", stream_time),
            Workload("stream_memory", "bytes", stream_memory),
            Workload("save_cascade", "seconds", save_cascade),
            Workload("send_0", "seconds", django_send(0)),
            Workload("send_ignored", "seconds", ignored_send()),
            Workload("send_1", "seconds", django_send(1)),
            Workload("send_5", "seconds", django_send(5)),
            Workload("blinker_1", "seconds", blinker_send(1)),
            Workload("blinker_5", "seconds", blinker_send(5)),
            Workload("queries", "seconds", receiver_queries()),
            Workload("on_commit", "seconds", receiver_on_commit()),
        )
    }
