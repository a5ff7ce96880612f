"""Nested sends are attributed to the receiver that made them, under every kind of concurrency."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from django.dispatch import Signal

from signal_panel import Recording, record_signals

outer = Signal()
inner = Signal()
leaf = Signal()


@pytest.fixture(autouse=True)
def _clean_signals() -> Any:
    yield
    for signal in (outer, inner, leaf):
        signal.receivers.clear()
        signal.sender_receivers_cache.clear()


def tree(recording: Recording) -> list[tuple[int, str, str | None]]:
    """(depth, sender, name of the receiver it was sent from) for each send."""
    return [
        (
            send.depth,
            send.sender,
            send.parent.receiver_name.rsplit(".", 1)[-1] if send.parent else None,
        )
        for send in recording.sends
    ]


def test_a_send_inside_a_receiver_nests_under_it() -> None:
    def sends_inner(sender: Any, **kwargs: Any) -> None:
        inner.send(sender="from sends_inner")

    def sends_leaf(sender: Any, **kwargs: Any) -> None:
        leaf.send(sender="from sends_leaf")

    outer.connect(sends_inner)
    inner.connect(sends_leaf)
    with record_signals() as recording:
        outer.send(sender="top")
        outer.send(sender="again")
    assert tree(recording) == [
        (0, "'top'", None),
        (1, "'from sends_inner'", "sends_inner"),
        (2, "'from sends_leaf'", "sends_leaf"),
        (0, "'again'", None),
        (1, "'from sends_inner'", "sends_inner"),
        (2, "'from sends_leaf'", "sends_leaf"),
    ]
    first = recording.sends[0]
    assert first.calls[0].sends == [recording.sends[1]]
    assert recording.roots == [recording.sends[0], recording.sends[3]]


def test_concurrent_threads_record_only_their_own_sends() -> None:
    def receiver(sender: Any, **kwargs: Any) -> None:
        inner.send(sender=sender)

    outer.connect(receiver)
    barrier = threading.Barrier(2)
    recordings: dict[str, Recording] = {}

    def work(name: str) -> None:
        with record_signals() as recording:
            barrier.wait()
            for _ in range(50):
                outer.send(sender=name)
        recordings[name] = recording

    threads = [threading.Thread(target=work, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for name, recording in recordings.items():
        assert len(recording.sends) == 100
        assert {send.sender for send in recording.sends} == {repr(name)}
        assert all(send.depth == (0 if send.signal is outer else 1) for send in recording.sends)


def test_concurrent_tasks_record_only_their_own_sends() -> None:
    async def receiver(sender: Any, **kwargs: Any) -> None:
        await asyncio.sleep(0)
        await inner.asend(sender=sender)

    outer.connect(receiver)

    async def work(name: str) -> Recording:
        with record_signals() as recording:
            for _ in range(20):
                await outer.asend(sender=name)
                await asyncio.sleep(0)
        return recording

    async def main() -> list[Recording]:
        return list(await asyncio.gather(work("a"), work("b")))

    first, second = asyncio.run(main())
    assert {send.sender for send in first.sends} == {"'a'"}
    assert {send.sender for send in second.sends} == {"'b'"}
    assert [send.depth for send in first.sends] == [0, 1] * 20


def test_interleaved_async_receivers_each_own_their_nested_sends() -> None:
    """Django 6 runs async receivers in one shared Context; each must still see itself."""

    def make(name: str, pauses: int) -> Any:
        async def receiver(sender: Any, **kwargs: Any) -> None:
            for _ in range(pauses):
                await asyncio.sleep(0)
            inner.send(sender=name)
            await asyncio.sleep(0)
            await inner.asend(sender=name)

        receiver.__qualname__ = name
        return receiver

    receivers = [make("slow", 3), make("fast", 1), make("middle", 2)]
    for receiver in receivers:
        outer.connect(receiver)

    async def main() -> Recording:
        with record_signals() as recording:
            await outer.asend(sender="top")
            await leaf.asend(sender="after")
        return recording

    recording = asyncio.run(main())
    nested = [(send.sender, send.parent.receiver_name) for send in recording.sends if send.parent]
    assert len(nested) == 6
    assert all(sender.strip("'") == receiver.rsplit(".", 1)[-1] for sender, receiver in nested)
    # Nothing stale leaked back to the caller: the next send is a root send.
    assert recording.sends[-1].sender == "'after'"
    assert recording.sends[-1].depth == 0


def test_sync_send_with_async_receivers_nests_their_sends() -> None:
    async def receiver(sender: Any, **kwargs: Any) -> None:
        await asyncio.sleep(0)
        inner.send(sender="from async")

    outer.connect(receiver)
    with record_signals() as recording:
        outer.send(sender="top")
        leaf.send(sender="after")
    assert tree(recording) == [
        (0, "'top'", None),
        (1, "'from async'", "receiver"),
        (0, "'after'", None),
    ]
    assert recording.sends[0].calls[0].is_async


def test_async_to_sync_hop_inside_a_receiver_nests() -> None:
    async def sends_inner() -> None:
        await inner.asend(sender="hopped")

    def receiver(sender: Any, **kwargs: Any) -> None:
        async_to_sync(sends_inner)()

    outer.connect(receiver)
    with record_signals() as recording:
        outer.send(sender="top")
    assert tree(recording) == [(0, "'top'", None), (1, "'hopped'", "receiver")]


def test_sync_to_async_hop_inside_a_receiver_nests() -> None:
    def sends_inner() -> None:
        inner.send(sender="hopped")

    async def receiver(sender: Any, **kwargs: Any) -> None:
        await sync_to_async(sends_inner)()

    outer.connect(receiver)

    async def main() -> Recording:
        with record_signals() as recording:
            await outer.asend(sender="top")
        return recording

    recording = asyncio.run(main())
    assert tree(recording) == [(0, "'top'", None), (1, "'hopped'", "receiver")]


def test_a_task_started_by_a_receiver_nests_under_it() -> None:
    tasks: list[asyncio.Task[Any]] = []

    async def later() -> None:
        await asyncio.sleep(0)
        inner.send(sender="from task")

    def first(sender: Any, **kwargs: Any) -> None:
        tasks.append(asyncio.get_running_loop().create_task(later()))

    def second(sender: Any, **kwargs: Any) -> None:
        pass

    outer.connect(first)
    outer.connect(second)

    async def main() -> Recording:
        with record_signals() as recording:
            outer.send(sender="top")
            await asyncio.gather(*tasks)
        return recording

    recording = asyncio.run(main())
    assert tree(recording) == [(0, "'top'", None), (1, "'from task'", "first")]


def test_recordings_nest_and_each_sees_what_happened_while_it_was_active() -> None:
    with record_signals() as outer_recording:
        outer.send(sender="before")
        with record_signals() as inner_recording:
            outer.send(sender="during")
        outer.send(sender="after")
    assert [s.sender for s in outer_recording.sends] == ["'before'", "'during'", "'after'"]
    assert [s.sender for s in inner_recording.sends] == ["'during'"]
    assert inner_recording.sends[0] is not outer_recording.sends[1]
    assert inner_recording.sends[0].start_ns < outer_recording.sends[1].start_ns


def test_nested_recordings_each_build_their_own_tree() -> None:
    def receiver(sender: Any, **kwargs: Any) -> None:
        inner.send(sender="nested")

    outer.connect(receiver)
    with record_signals() as first, record_signals() as second:
        outer.send(sender="top")
    for recording in (first, second):
        assert tree(recording) == [(0, "'top'", None), (1, "'nested'", "receiver")]
        assert recording.sends[1].parent is recording.sends[0].calls[0]


async def test_record_signals_works_inside_a_coroutine() -> None:
    def receiver(sender: Any, **kwargs: Any) -> None:
        pass

    outer.connect(receiver)
    with record_signals() as recording:
        await outer.asend(sender="async")
        outer.send(sender="sync")
    assert [s.is_async for s in recording.sends] == [True, False]
    assert [len(s.calls) for s in recording.sends] == [1, 1]


def test_a_thread_a_receiver_waits_for_nests_under_it() -> None:
    import contextvars

    def receiver(sender: Any, **kwargs: Any) -> None:
        context = contextvars.copy_context()
        worker = threading.Thread(target=context.run, args=(inner.send,), kwargs={"sender": "w"})
        worker.start()
        worker.join()

    outer.connect(receiver)
    with record_signals() as recording:
        outer.send(sender="top")
    assert tree(recording) == [(0, "'top'", None), (1, "'w'", "receiver")]


def test_a_thread_that_outlives_its_receiver_nests_under_that_receiver() -> None:
    """A context copied by a sync receiver names that receiver's call: a thread that runs in it
    nests its sends there, even while another receiver runs in the recording's thread."""
    import contextvars

    workers: list[threading.Thread] = []
    go = threading.Event()
    sent = threading.Event()

    def late() -> None:
        go.wait()
        leaf.send(sender="late")
        sent.set()

    def starts_thread(sender: Any, **kwargs: Any) -> None:
        if not workers:
            worker = threading.Thread(target=contextvars.copy_context().run, args=(late,))
            worker.start()
            workers.append(worker)

    def sends_inner(sender: Any, **kwargs: Any) -> None:
        inner.send(sender="middle")

    def waits(sender: Any, **kwargs: Any) -> None:
        go.set()
        sent.wait()

    outer.connect(sends_inner)
    inner.connect(starts_thread)
    with record_signals() as recording:
        outer.send(sender="top")
        inner.connect(waits)
        inner.send(sender="waiting")
        workers[0].join()
    assert tree(recording) == [
        (0, "'top'", None),
        (1, "'middle'", "sends_inner"),
        (0, "'waiting'", None),
        (2, "'late'", "starts_thread"),
    ]


def test_a_thread_sending_after_its_receiver_returned_nests_under_it() -> None:
    import contextvars

    workers: list[threading.Thread] = []
    go = threading.Event()

    def late() -> None:
        go.wait()
        leaf.send(sender="late")

    def starts_thread(sender: Any, **kwargs: Any) -> None:
        worker = threading.Thread(target=contextvars.copy_context().run, args=(late,))
        worker.start()
        workers.append(worker)

    outer.connect(starts_thread)
    with record_signals() as recording:
        outer.send(sender="top")
        go.set()
        workers[0].join()
    assert tree(recording) == [(0, "'top'", None), (1, "'late'", "starts_thread")]
