"""The recorder's context state and row layout, shared by :mod:`signal_panel.recording` and the
hot path (:mod:`signal_panel._hotpath`), which must not import each other.

One ``ContextVar`` holds a tuple of ``(recording, current_call)`` pairs, one per recording active
in this context (see :mod:`signal_panel.recording` for how it is set and put back).
"""

from __future__ import annotations

import threading
import time
from asyncio import _get_running_loop
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from django.db import connections

if TYPE_CHECKING:
    from signal_panel.recording import Recording

_perf_ns = time.perf_counter_ns

#: The receiver call a sync send's loop is running, in a thread where no event loop runs: a
#: three-item list, ``[call or None, the call to report when none runs, owning thread's ident]``.
#:
#: In such a thread a sync receiver cannot start a task, so nothing copies the context while a
#: receiver runs and keeps it past the receiver's return (short of an explicit
#: ``copy_context()`` in a thread left running). The instrumentation then does not set the context
#: variable per receiver: it moves the cursor the state already holds from call to call, and puts
#: back what it found when the send ends. :func:`~signal_panel.recording.start` puts a cursor in
#: the state when it runs in such a thread (so a WSGI request, a test or a management command
#: never sets the variable per send); a thread that finds another thread's cursor sets one of its
#: own for the length of the send. A context copied into another thread reads the owner's cursor
#: as it is at the time: its sends nest under the call running in the owner thread then.
Cursor = list
CURSOR_CALL, CURSOR_OUTER, CURSOR_OWNER = 0, 1, 2


State = tuple[tuple["Recording", "int | list[Any] | None"], ...]

#: ``((recording, current call row or cursor), ...)`` for every recording active in this context.
_state: ContextVar[State] = ContextVar("signal_panel_state", default=())


def current(position: int | list[Any] | None) -> int | None:
    """The receiver call a state entry points at (see :data:`Cursor`)."""
    if type(position) is list:
        call: int | None = position[CURSOR_CALL]
        return call if call is not None else position[CURSOR_OUTER]
    return position  # type: ignore[return-value]


# A send's row in Recording._send_rows: SEND_FIELDS values starting at the send's handle.
(
    S_SIGNAL,
    S_SENDER,
    S_KEYS,
    S_VALUES,
    S_TAKEN,
    S_PARENT,
    S_KIND,
    S_CODE,
    S_LASTI,
    S_START,
    S_DURATION,
    S_IN_ATOMIC,
) = range(12)
SEND_FIELDS = 12
# A receiver call's row in Recording._call_rows.
(
    C_SEND,
    C_INFO,
    C_ASYNC,
    C_START,
    C_DURATION,
    C_ERROR,
    C_SWALLOWED,
    C_DB,
) = range(8)
CALL_FIELDS = 8


def _in_atomic(using: object) -> bool | None:
    """Whether the connection named ``using`` is inside ``transaction.atomic`` (a flag: no query).
    None when ``using`` names no database."""
    try:
        # ``connections[using]`` goes through asgiref's Local, which asks asyncio for a running
        # loop by raising and catching an exception: most of this function's cost. In a sync
        # thread that Local is a plain ``threading.local``; read the connection from it directly.
        if _get_running_loop() is None:
            storage = getattr(getattr(connections, "_connections", None), "_storage", None)
            if isinstance(storage, threading.local) and isinstance(using, str):
                connection = getattr(storage, using, None)
                if connection is not None:
                    return bool(connection.in_atomic_block)
        return bool(connections[using].in_atomic_block)  # type: ignore[index]
    except Exception:
        return None


def note_error(recording: Recording, call: int, error: BaseException, swallowed: bool) -> None:
    rows = recording._call_rows
    rows[call + C_ERROR] = _error_text(error)
    rows[call + C_SWALLOWED] = swallowed


def _error_text(error: BaseException) -> str:
    try:
        message = str(error)
    except Exception:
        message = "<str() failed>"
    return f"{type(error).__qualname__}: {message}"[:500]
