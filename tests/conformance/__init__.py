"""Conformance: the upstream test suites of the signal libraries the package wraps, run unchanged.

Django's own ``tests/dispatch`` and ``tests/signals`` (through its ``tests/runtests.py``) and
blinker's own test suite, from the release sdists of exactly the installed versions, pinned by
sha256 in ``sources.py``, run three ways each in a subprocess:

- ``vanilla``: as released, without the package (the baseline, which must pass);
- ``install``: after ``signal_panel.install()``;
- ``record``: with every test (set-up, body, tear-down) inside ``signal_panel.record_signals()``.

The last two must give every test the outcome it has in the baseline. Run them with::

    python -m pytest tests/conformance

The first run downloads the sdists with ``pip download`` (PyPI must be reachable) into
``~/.cache/signal-panel-conformance`` (``$XDG_CACHE_HOME`` is honoured, and
``SIGNAL_PANEL_CONFORMANCE_CACHE`` overrides the directory); later runs reuse them. A Django or
blinker version without a pin fails with the command that gives its hash.
"""
