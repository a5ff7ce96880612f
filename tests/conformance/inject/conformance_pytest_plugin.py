"""pytest plugin loaded with ``-p`` into the run of blinker's own tests (see
:mod:`conformance_hooks` for the modes).

It writes each test's outcome and, in ``record`` mode, runs each test's whole protocol (fixture
set-up, the test, teardown) inside :func:`signal_panel.record_signals`. The recording is set in the
runner's context before pytest-asyncio starts the test's event loop, whose tasks copy that context.
"""

from __future__ import annotations

from collections.abc import Generator

import conformance_hooks as hooks
import pytest

hooks.prepare(configure_django=True)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(
    item: pytest.Item, nextitem: pytest.Item | None
) -> Generator[None, object, object]:
    if hooks.mode() != "record":
        return (yield)
    from signal_panel import record_signals

    with record_signals() as recording:
        returned = yield
    hooks.write_recorded(item.nodeid, recording)
    return returned


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    xfail = hasattr(report, "wasxfail")
    if report.when == "call":
        if report.passed:
            outcome = "xpassed" if xfail else "passed"
        elif report.skipped:
            outcome = "xfailed" if xfail else "skipped"
        else:
            outcome = "failed"
        hooks.write_outcome(report.nodeid, outcome, report.longreprtext)
    elif report.failed:
        hooks.write_outcome(report.nodeid, "error", f"in {report.when}:\n{report.longreprtext}")
    elif report.skipped and report.when == "setup":
        hooks.write_outcome(report.nodeid, "xfailed" if xfail else "skipped", report.longreprtext)


def pytest_collectreport(report: pytest.CollectReport) -> None:
    if report.failed:
        hooks.write_outcome(report.nodeid or "(collection)", "error", report.longreprtext)
