"""Record and show everything Django's and blinker's signal machinery does during a request.

Public API: :func:`install`, :func:`record_signals`, and the recording's objects
(:class:`Recording`, :class:`Send`, :class:`ReceiverCall`, :class:`Problem`).
"""

from __future__ import annotations

import threading

from signal_panel.problems import Problem
from signal_panel.recording import ReceiverCall, Recording, Send, record_signals

__all__ = ["Problem", "ReceiverCall", "Recording", "Send", "install", "record_signals"]
__version__ = "0.1.0"

_install_lock = threading.Lock()
_installed = False


def install() -> None:
    """Prepare the instrumentation of Django's (and, if importable, blinker's) signals.

    Idempotent and cheap after the first call. Importing the package calls it, so listing
    ``signal_panel`` in ``INSTALLED_APPS`` is enough: every ``connect()`` made after that import is
    tracked (where it happened), and :func:`record_signals` can record sends. Until something
    records, sending a signal runs Django's own code, untouched.
    """
    global _installed
    if _installed:
        return
    with _install_lock:
        if _installed:
            return
        from signal_panel.instrumentation import blinker_signals, django_db, django_signals

        django_signals.install()
        django_db.install()
        blinker_signals.install()
        _installed = True


install()
