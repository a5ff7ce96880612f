"""The write side: patches Django's and blinker's signals, and starts and stops recordings.

:func:`install` wraps ``connect``/``disconnect``/``__init__`` of both libraries for good (to learn
where receivers were connected) and prepares the recorded send methods (:mod:`.django`,
:mod:`.blinker`) and database hooks (:mod:`.database`). Those are put on the classes when the
first recording in the process starts, and stay there (see :class:`.switch.MethodSwitch`): a
process that never records runs the libraries' own code, and one that has recorded changes no
class again. Changing a class makes Python drop what it learnt about it (its attribute cache and
the code it specialised for its instances), and from Python 3.13 a class changed a thousand times
is never cached again: putting the methods on and off per request slowed the ORM for the rest of
the process after about 500 requests. While a context records nothing, the recorded methods call
the libraries' own functions. Per recording only the context state (:data:`.rows.state`)
changes: concurrent requests never see each other's rows.

Nothing here names, sorts or analyses anything: that happens when a recording is read.
"""

from __future__ import annotations

import threading
import time

from signal_panel.tracking import rows
from signal_panel.tracking.rows import Tape

__all__ = ["install", "is_recording_anywhere", "start", "stop"]

_install_lock = threading.Lock()
_installed = False
_switch_lock = threading.Lock()
_active_recordings = 0


def install() -> None:
    """Prepare the tracking of Django's (and, if importable, blinker's) signals.

    Idempotent and cheap after the first call. The app config calls it at start-up, and
    :func:`~signal_panel.record_signals` before it records. Every ``connect()`` made after it is
    noted (where it happened); until something records, sending a signal runs the library's own
    code, untouched.
    """
    global _installed
    if _installed:
        return
    with _install_lock:
        if _installed:
            return
        from signal_panel.tracking import blinker, database, django

        django.install()
        database.install()
        blinker.install()
        _installed = True


#: The switches of the recorded methods, found once (an import statement per request would run
#: the import system's own Python code twice per recording).
_switch_list: list[object] = []


def _switches() -> list[object]:
    if not _switch_list:
        from signal_panel.tracking import blinker, database, django

        _switch_list[:] = [django.methods, database.methods, blinker.methods]
    return _switch_list


def is_recording_anywhere() -> bool:
    """Whether some recording is active in the process (the recorded methods are on)."""
    return _active_recordings > 0


def start(tape: Tape) -> object:
    """Make ``tape`` active in the current context; returns a token for :func:`stop`. The first
    recording in the process puts the recorded methods on the classes."""
    global _active_recordings
    install()
    with _switch_lock:
        _active_recordings += 1
        for switch in _switches():
            switch.on()  # type: ignore[attr-defined]  # does nothing after the first time
    tape.started_ns = time.perf_counter_ns()
    tape.active = True
    return rows.state.set((*rows.state.get(), (tape, None)))


def stop(tape: Tape, token: object) -> None:
    """End ``tape``: it accepts nothing more, and the context gets back the state it had before
    :func:`start` (or, stopped in another context, loses this recording's entry). The recorded
    methods stay on the classes."""
    global _active_recordings
    if not tape.active:
        return
    tape.duration_ns = time.perf_counter_ns() - tape.started_ns
    tape.active = False
    tape.quiet_runs.clear()
    if tape.hooks:
        from signal_panel.tracking import database

        database.settle(tape)
    try:
        rows.state.reset(token)  # type: ignore[arg-type]
    except ValueError:
        # Stopped in another context than it started in (an ASGI middleware that starts in one
        # task and stops in another): leave that context's state alone but remove ours.
        rows.state.set(tuple(pair for pair in rows.state.get() if pair[0] is not tape))
    finally:
        with _switch_lock:
            _active_recordings -= 1
