"""Record and show everything Django's and blinker's signal machinery does during a request.

Public API: :func:`install`, :func:`record_signals`, and the recording's objects
(:class:`Recording`, :class:`Send`, :class:`ReceiverCall`, :class:`Problem`). Importing the package
patches nothing: the app config calls :func:`install` at start-up, and :func:`record_signals`
calls it before it records.
"""

from __future__ import annotations

from signal_panel import text as _text  # noqa: F401 - hands format_tree to the recording
from signal_panel.problems import Problem
from signal_panel.recording import ReceiverCall, Recording, Send, record_signals
from signal_panel.tracking import install

__all__ = ["Problem", "ReceiverCall", "Recording", "Send", "install", "record_signals"]
__version__ = "0.1.0"
