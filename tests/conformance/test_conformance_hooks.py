"""The conformance runs measure what they claim: outcomes are read right, the baseline never
imports the package, and in ``record`` mode every part of a test (Django's and unittest's set-up
and tear-down, pytest fixtures, async test bodies) runs inside its recording.

Each test runs a small probe suite through the same subprocess set-up as the upstream suites
(:func:`tests.conformance.suites.execute`).
"""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from tests.conformance import suites

UNITTEST_RUNNER = """
import sys
import unittest

import django
from django.conf import settings

settings.configure()
django.setup()
result = unittest.main(module="probe_tests", exit=False, verbosity=2).result
sys.exit(not result.wasSuccessful())
"""

UNITTEST_TESTS = """
import os
import sys
import unittest

from django.dispatch import Signal
from django.test import SimpleTestCase

in_set_up = Signal()
in_body = Signal()
in_tear_down = Signal()


def receiver(**kwargs):
    pass


async def async_receiver(**kwargs):
    pass


for signal in (in_set_up, in_body, in_tear_down):
    signal.connect(receiver)
    signal.connect(async_receiver)


class DjangoSync(SimpleTestCase):
    def setUp(self):
        in_set_up.send(None)

    def test_body(self):
        in_body.send(None)

    def tearDown(self):
        in_tear_down.send(None)


class DjangoAsync(SimpleTestCase):
    async def test_body(self):
        await in_body.asend(None)


class PlainSync(unittest.TestCase):
    def setUp(self):
        in_set_up.send(None)

    def test_body(self):
        in_body.send(None)

    def tearDown(self):
        in_tear_down.send(None)


class PlainAsync(unittest.IsolatedAsyncioTestCase):
    async def asyncSetUp(self):
        await in_set_up.asend(None)

    async def test_body(self):
        await in_body.asend(None)

    async def asyncTearDown(self):
        await in_tear_down.asend(None)


class Outcomes(SimpleTestCase):
    def test_package_imported_only_outside_the_baseline(self):
        mode = os.environ["SIGNAL_PANEL_CONFORMANCE_MODE"]
        self.assertEqual("signal_panel" in sys.modules, mode != "vanilla")

    def test_fails(self):
        self.assertEqual(1, 2)

    def test_errors(self):
        raise KeyError("probe")

    def test_subtest_fails(self):
        for number in (1, 2):
            with self.subTest(number=number):
                self.assertEqual(number, 1)

    @unittest.skip("probe")
    def test_skipped(self):
        pass

    @unittest.expectedFailure
    def test_expected_failure(self):
        self.assertEqual(1, 2)
"""

PYTEST_CONFIG = """
[pytest]
asyncio_mode = auto
filterwarnings = error
"""

PYTEST_TESTS = """
import os
import sys

import blinker
import pytest
import pytest_asyncio

in_set_up = blinker.signal("in-set-up")
in_body = blinker.signal("in-body")
in_tear_down = blinker.signal("in-tear-down")
in_async_body = blinker.signal("in-async-body")


def receiver(sender, **kwargs):
    pass


async def async_receiver(sender, **kwargs):
    pass


for signal in (in_set_up, in_body, in_tear_down):
    signal.connect(receiver)
in_async_body.connect(async_receiver)


@pytest.fixture
def around():
    in_set_up.send()
    yield
    in_tear_down.send()


@pytest_asyncio.fixture
async def async_around():
    in_set_up.send()
    yield
    in_tear_down.send()


def test_sync(around):
    in_body.send()


async def test_async(async_around):
    await in_async_body.send_async()


def test_package_imported_only_outside_the_baseline():
    mode = os.environ["SIGNAL_PANEL_CONFORMANCE_MODE"]
    assert ("signal_panel" in sys.modules) == (mode != "vanilla")


def test_fails():
    assert 1 == 2


@pytest.fixture
def broken():
    raise KeyError("probe")


def test_errors(broken):
    pass


@pytest.mark.skip(reason="probe")
def test_skipped():
    pass


@pytest.mark.xfail(strict=True)
def test_expected_failure():
    assert 1 == 2
"""


def _unittest_probe(directory: Path, mode: str) -> suites.SuiteRun:
    (directory / "probe_runner.py").write_text(textwrap.dedent(UNITTEST_RUNNER))
    (directory / "probe_tests.py").write_text(textwrap.dedent(UNITTEST_TESTS))
    command = [sys.executable, str(suites.INJECT_DIR / "run_script.py"), "probe_runner.py"]
    return suites.execute(command, directory, mode)


def _pytest_probe(directory: Path, mode: str) -> suites.SuiteRun:
    (directory / "pytest.ini").write_text(textwrap.dedent(PYTEST_CONFIG))
    (directory / "test_probe.py").write_text(textwrap.dedent(PYTEST_TESTS))
    return suites.execute(suites.pytest_command(directory / "pytest.ini"), directory, mode)


def _outcomes(run: suites.SuiteRun) -> dict[str, str]:
    return {test: outcome.outcome for test, outcome in run.outcomes.items()}


@pytest.mark.parametrize("mode", suites.MODES)
def test_unittest_outcomes_are_read_per_test(tmp_path: Path, mode: str) -> None:
    run = _unittest_probe(tmp_path, mode)
    assert _outcomes(run) == {
        "probe_tests.DjangoSync.test_body": "passed",
        "probe_tests.DjangoAsync.test_body": "passed",
        "probe_tests.PlainSync.test_body": "passed",
        "probe_tests.PlainAsync.test_body": "passed",
        "probe_tests.Outcomes.test_package_imported_only_outside_the_baseline": "passed",
        "probe_tests.Outcomes.test_fails": "failed",
        "probe_tests.Outcomes.test_errors": "error",
        "probe_tests.Outcomes.test_subtest_fails": "failed",
        "probe_tests.Outcomes.test_skipped": "skipped",
        "probe_tests.Outcomes.test_expected_failure": "xfailed",
    }, run.output
    assert "KeyError: 'probe'" in run.outcomes["probe_tests.Outcomes.test_errors"].detail
    assert "(number=2)" in run.outcomes["probe_tests.Outcomes.test_subtest_fails"].detail
    assert run.returncode == 1


@pytest.mark.parametrize("mode", suites.MODES)
def test_pytest_outcomes_are_read_per_test(tmp_path: Path, mode: str) -> None:
    run = _pytest_probe(tmp_path, mode)
    assert _outcomes(run) == {
        "test_probe.py::test_sync": "passed",
        "test_probe.py::test_async": "passed",
        "test_probe.py::test_package_imported_only_outside_the_baseline": "passed",
        "test_probe.py::test_fails": "failed",
        "test_probe.py::test_errors": "error",
        "test_probe.py::test_skipped": "skipped",
        "test_probe.py::test_expected_failure": "xfailed",
    }, run.output
    assert "KeyError: 'probe'" in run.outcomes["test_probe.py::test_errors"].detail
    assert run.returncode == 1


def test_unittest_set_up_body_and_tear_down_run_inside_the_recording(tmp_path: Path) -> None:
    recorded = _unittest_probe(tmp_path, "record").recorded
    sync = ["probe_tests.in_set_up", "probe_tests.in_body", "probe_tests.in_tear_down"]
    assert recorded["probe_tests.DjangoSync.test_body"] == sync
    assert recorded["probe_tests.PlainSync.test_body"] == sync
    # SimpleTestCase runs an async test through async_to_sync, in a copy of the runner's context.
    assert recorded["probe_tests.DjangoAsync.test_body"] == ["probe_tests.in_body"]


def test_unittest_tests_in_a_context_of_their_own_are_noted(tmp_path: Path) -> None:
    """IsolatedAsyncioTestCase copies its context when the test object is made, before the
    recording starts; the harness notes it so that it is never counted as recorded."""
    run = _unittest_probe(tmp_path, "record")
    assert run.recorded["probe_tests.PlainAsync.test_body"] == []
    assert run.unreached == {"probe_tests.PlainAsync.test_body"}


def test_unittest_tests_are_recorded_apart(tmp_path: Path) -> None:
    recorded = _unittest_probe(tmp_path, "record").recorded
    assert recorded["probe_tests.Outcomes.test_fails"] == []


def test_pytest_fixtures_and_body_run_inside_the_recording(tmp_path: Path) -> None:
    recorded = _pytest_probe(tmp_path, "record").recorded
    sync = ["in-set-up", "in-body", "in-tear-down"]
    assert recorded["test_probe.py::test_sync"] == sync
    # pytest-asyncio starts the test's event loop inside the recording, and async fixtures too.
    assert recorded["test_probe.py::test_async"] == ["in-set-up", "in-async-body", "in-tear-down"]
    assert recorded["test_probe.py::test_fails"] == []


@pytest.mark.parametrize("mode", ["vanilla", "install"])
def test_only_record_mode_records(tmp_path: Path, mode: str) -> None:
    assert _unittest_probe(tmp_path, mode).recorded == {}
    assert _pytest_probe(tmp_path, mode).recorded == {}
