"""What the conformance runners load into the process that runs an upstream test suite.

This directory is put on ``PYTHONPATH`` of that process only; nothing here is imported by the
project's own test run. Two environment variables say what to do:

``SIGNAL_PANEL_CONFORMANCE_MODE``
    ``vanilla``: leave the process alone (the baseline; ``signal_panel`` is never imported).
    ``install``: call :func:`signal_panel.install` before any upstream test module is imported.
    ``record``: as ``install``, and run every test (set-up, body, tear-down) inside
    :func:`signal_panel.record_signals`.
``SIGNAL_PANEL_CONFORMANCE_OUTCOMES``
    A file that this process appends JSON lines to: each test's outcome and, in ``record`` mode,
    the signals each test's recording saw (which shows the recording was active, and where).

The outcomes are written by the process itself rather than parsed from the runner's text output,
so that a test's docstring, a warning or a receiver's print cannot garble them.
"""

from __future__ import annotations

import contextvars
import functools
import json
import os
import traceback
import unittest
from collections.abc import Callable
from types import TracebackType
from typing import Any

MODE_ENV = "SIGNAL_PANEL_CONFORMANCE_MODE"
OUTCOMES_ENV = "SIGNAL_PANEL_CONFORMANCE_OUTCOMES"
MODES = ("vanilla", "install", "record")

#: What unittest passes to ``addError`` and the like (``sys.exc_info()``'s shape).
ExcInfo = tuple[type[BaseException], BaseException, TracebackType] | tuple[None, None, None]


def mode() -> str:
    value = os.environ.get(MODE_ENV, "vanilla")
    if value not in MODES:
        raise RuntimeError(f"{MODE_ENV}={value!r}: expected one of {', '.join(MODES)}")
    return value


def write(line: dict[str, Any]) -> None:
    """Append one JSON line to the outcomes file (opened per line, so a crash loses nothing)."""
    path = os.environ.get(OUTCOMES_ENV)
    if not path:
        return
    with open(path, "a", encoding="utf-8") as file:
        file.write(json.dumps(line) + "\n")


def write_outcome(test_id: str, outcome: str, detail: str = "") -> None:
    write({"kind": "outcome", "test": test_id, "outcome": outcome, "detail": detail})


def write_recorded(test_id: str, recording: Any, *, reached: bool = True) -> None:
    """Note which signals ``recording`` saw while ``test_id`` ran; never fails the run.

    ``reached`` is false for a test that runs in a context of its own, which the recording
    cannot reach.
    """
    try:
        names = [send.signal_name for send in recording.sends]
    except Exception as exc:  # The outcome comparison shows what matters; keep going.
        names = [f"(the recording could not be read: {type(exc).__name__}: {exc})"]
    write({"kind": "recorded", "test": test_id, "signals": names, "reached": reached})


def prepare(*, configure_django: bool) -> None:
    """Apply the mode to this process, before the upstream suite imports its test modules.

    ``configure_django`` is for suites that do not configure Django themselves (blinker's):
    ``signal_panel`` imports Django, and recording reads the project's settings.
    """
    if mode() == "vanilla":
        return
    if configure_django:
        import django
        from django.conf import settings

        if not settings.configured:
            settings.configure()
            django.setup()
    import signal_panel

    signal_panel.install()


# -- unittest (Django's runtests.py) ---------------------------------------------------------------
def observe_unittest_results() -> None:
    """Write every outcome that reaches ``unittest.TestResult``.

    Django's runner uses ``TextTestResult``, whose ``add*`` methods call the base class's, so
    wrapping the base class sees every test without replacing the runner.
    """
    result = unittest.TestResult
    add_success = result.addSuccess
    add_error = result.addError
    add_failure = result.addFailure
    add_skip = result.addSkip
    add_expected_failure = result.addExpectedFailure
    add_unexpected_success = result.addUnexpectedSuccess
    add_sub_test = result.addSubTest

    def addSuccess(self: unittest.TestResult, test: unittest.TestCase) -> None:
        write_outcome(test.id(), "passed")
        add_success(self, test)

    def addError(self: unittest.TestResult, test: unittest.TestCase, err: ExcInfo) -> None:
        write_outcome(test.id(), "error", _format(err))
        add_error(self, test, err)

    def addFailure(self: unittest.TestResult, test: unittest.TestCase, err: ExcInfo) -> None:
        write_outcome(test.id(), "failed", _format(err))
        add_failure(self, test, err)

    def addSkip(self: unittest.TestResult, test: unittest.TestCase, reason: str) -> None:
        write_outcome(test.id(), "skipped", reason)
        add_skip(self, test, reason)

    def addExpectedFailure(
        self: unittest.TestResult, test: unittest.TestCase, err: ExcInfo
    ) -> None:
        write_outcome(test.id(), "xfailed")
        add_expected_failure(self, test, err)

    def addUnexpectedSuccess(self: unittest.TestResult, test: unittest.TestCase) -> None:
        write_outcome(test.id(), "xpassed")
        add_unexpected_success(self, test)

    def addSubTest(
        self: unittest.TestResult,
        test: unittest.TestCase,
        subtest: unittest.TestCase,
        err: ExcInfo | None,
    ) -> None:
        # A failed subtest fails its test (unittest then reports no success for it): it is
        # written under the test's id, so the comparison is per test method.
        if err is not None:
            failed = err[0] is not None and issubclass(err[0], test.failureException)
            outcome = "failed" if failed else "error"
            write_outcome(test.id(), outcome, f"{subtest.id()}\n{_format(err)}")
        add_sub_test(self, test, subtest, err)

    result.addSuccess = addSuccess  # type: ignore[method-assign]
    result.addError = addError  # type: ignore[method-assign]
    result.addFailure = addFailure  # type: ignore[method-assign]
    result.addSkip = addSkip  # type: ignore[method-assign]
    result.addExpectedFailure = addExpectedFailure  # type: ignore[method-assign]
    result.addUnexpectedSuccess = addUnexpectedSuccess  # type: ignore[method-assign]
    result.addSubTest = addSubTest  # type: ignore[method-assign]


#: Set while a test runs inside its recording, so the ``__call__`` of a subclass and the
#: ``super().__call__`` it makes do not open a second, nested recording.
_in_test: contextvars.ContextVar[bool] = contextvars.ContextVar("in_test", default=False)


def record_each_test() -> None:
    """Run every unittest test inside its own ``record_signals()``.

    ``TestCase.__call__`` is what a suite calls per test. Django's ``SimpleTestCase.__call__``
    overrides it to run ``_pre_setup()`` (fixtures, the test transaction), converts async test
    methods with ``async_to_sync``, runs ``setUp``, the test and ``tearDown``, then
    ``_post_teardown()``: wrapping both classes puts all of that inside the recording. The
    recording lives in a ``ContextVar`` set in the runner's thread; ``async_to_sync`` runs an async
    test in a copy of that context, so it sees the recording too.

    ``unittest.IsolatedAsyncioTestCase`` is the exception: it runs set-up, test and tear-down in a
    context copied when the test object is created, before any recording starts. Such a test is
    noted as not reached, and the harness fails on it rather than count it as recorded.
    """
    from django.test import SimpleTestCase

    for cls in (unittest.TestCase, SimpleTestCase):
        cls.__call__ = _recorded(cls.__call__)  # type: ignore[method-assign]


def _recorded(call: Callable[..., Any]) -> Callable[..., Any]:
    from signal_panel import record_signals

    @functools.wraps(call)
    def __call__(self: unittest.TestCase, *args: Any, **kwargs: Any) -> Any:
        if _in_test.get():
            return call(self, *args, **kwargs)
        token = _in_test.set(True)
        try:
            with record_signals() as recording:
                returned = call(self, *args, **kwargs)
            reached = not isinstance(self, unittest.IsolatedAsyncioTestCase)
            write_recorded(self.id(), recording, reached=reached)
            return returned
        finally:
            _in_test.reset(token)

    return __call__


def _format(err: ExcInfo) -> str:
    if err[1] is None:
        return ""
    return "".join(traceback.format_exception(err[0], err[1], err[2]))
