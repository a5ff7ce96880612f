"""Running an upstream test suite in a subprocess, in one mode, and reading back its outcomes.

A suite runs with the installed Django and blinker: only the upstream ``tests/`` directories (and
blinker's pytest configuration) are extracted from the sdists, so no other copy of either library
is importable. ``inject/`` is put on the subprocess's ``PYTHONPATH``; it applies the mode and writes
each test's outcome (see ``inject/conformance_hooks.py``).
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import django

from tests.conformance import sources

INJECT_DIR = Path(__file__).parent / "inject"
MODES = ("vanilla", "install", "record")
MODE_LABELS = {
    "vanilla": "without the package",
    "install": "after signal_panel.install()",
    "record": "with every test inside signal_panel.record_signals()",
}
#: Outcomes that count as a pass for the baseline.
PASSING = {"passed", "skipped", "xfailed"}
#: When a test has several outcome lines (a failed subtest, a teardown error after a failure),
#: the worst one is its outcome.
_RANK = {"passed": 0, "skipped": 1, "xfailed": 2, "xpassed": 3, "failed": 4, "error": 5}
#: Generous: each suite takes seconds; this only stops a hung run.
TIMEOUT_S = 900


@dataclass(frozen=True)
class Outcome:
    outcome: str
    detail: str = ""


@dataclass
class SuiteRun:
    """What one run of a suite gave: per-test outcomes, and the process's exit and output."""

    mode: str
    returncode: int
    output: str
    outcomes: dict[str, Outcome] = field(default_factory=dict)
    #: ``{test id: names of the signals its recording saw}``, in ``record`` mode.
    recorded: dict[str, list[str]] = field(default_factory=dict)
    #: Tests that ran in a context of their own, which their recording did not reach.
    unreached: set[str] = field(default_factory=set)
    #: The ``{"version", "path"}`` of the Django that ran a unittest suite.
    django: dict[str, str] = field(default_factory=dict)

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.output.splitlines()[-lines:])


def runtests_command(root: Path) -> list[str]:
    """Django's own way of running a subset of its tests, from the sdist's ``tests/``.

    ``--parallel=1`` keeps every test in the process where the mode is applied.
    """
    return [
        sys.executable,
        str(INJECT_DIR / "run_script.py"),
        str(root / "tests" / "runtests.py"),
        "dispatch",
        "signals",
        "--settings=test_sqlite",
        "--parallel=1",
        "--verbosity=2",
    ]


def pytest_command(config: Path, *arguments: str) -> list[str]:
    """pytest with the configuration file ``config`` and no plugin but those named here.

    Plugin autoloading is off (see :func:`_environment`), so neither pytest-django nor this
    project's own ``pytest11`` plugin (whose import installs the package) enters the run.
    """
    return [
        sys.executable,
        "-m",
        "pytest",
        "-c",
        str(config),
        "--rootdir",
        str(config.parent),
        # pytest-asyncio >= 1.x warns at start-up while this option is unset, and blinker's
        # filterwarnings = error turns that warning into an aborted run. blinker's tests have no
        # async fixtures, so the scope changes nothing for them.
        "-o",
        "asyncio_default_fixture_loop_scope=function",
        "-p",
        "no:cacheprovider",
        "-p",
        "pytest_asyncio.plugin",
        "-p",
        "conformance_pytest_plugin",
        "-rA",
        *arguments,
    ]


@dataclass(frozen=True)
class Suite:
    """An upstream suite: which sdist holds it and how to run it."""

    title: str
    project: str
    installed_version: str
    #: The top-level entries of the sdist to extract.
    members: tuple[str, ...]
    #: The command line that runs the suite, from the extracted sdist's root.
    command: Callable[[Path], list[str]]


SUITES = {
    "django": Suite(
        f"Django {django.__version__}'s tests/dispatch and tests/signals",
        "Django",
        django.__version__,
        ("tests",),
        runtests_command,
    ),
    # blinker 1.9 has no __version__ any more; its distribution's metadata has the version. Its
    # own pytest configuration (pyproject.toml: filterwarnings = error, asyncio_mode = auto) is
    # the one used, and none of this project's.
    "blinker": Suite(
        f"blinker {metadata.version('blinker')}'s tests",
        "blinker",
        metadata.version("blinker"),
        ("tests", "pyproject.toml"),
        lambda root: pytest_command(root / "pyproject.toml", "tests"),
    ),
}


@functools.cache
def run(suite_name: str, mode: str) -> SuiteRun:
    """Run a suite in a mode, once per test session (every mode compares with one baseline)."""
    suite = SUITES[suite_name]
    root = sources.extracted(sources.pinned(suite.project, suite.installed_version), suite.members)
    return execute(suite.command(root), root, mode)


def execute(command: list[str], cwd: Path, mode: str) -> SuiteRun:
    """Run ``command`` in ``cwd`` in a mode, and read the outcomes its process wrote."""
    env = _environment(mode)
    with tempfile.TemporaryDirectory(prefix="signal-panel-conformance-") as scratch:
        outcomes_file = Path(scratch, "outcomes.jsonl")
        env["SIGNAL_PANEL_CONFORMANCE_OUTCOMES"] = str(outcomes_file)
        env["TMPDIR"] = scratch  # runtests.py makes its temporary directory under it.
        done = subprocess.run(
            command,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=TIMEOUT_S,
            check=False,
        )
        lines = outcomes_file.read_text("utf-8").splitlines() if outcomes_file.exists() else []
    result = SuiteRun(mode, done.returncode, done.stdout)
    for line in lines:
        entry = json.loads(line)
        if entry["kind"] == "outcome":
            new = Outcome(entry["outcome"], entry["detail"])
            old = result.outcomes.get(entry["test"])
            if old is None or _RANK[new.outcome] > _RANK[old.outcome]:
                result.outcomes[entry["test"]] = new
        elif entry["kind"] == "recorded":
            result.recorded[entry["test"]] = entry["signals"]
            if not entry["reached"]:
                result.unreached.add(entry["test"])
        elif entry["kind"] == "django":
            result.django = {"version": entry["version"], "path": entry["path"]}
    return result


def _environment(mode: str) -> dict[str, str]:
    """This process's environment, less what would carry the project's own test set-up along."""
    env = {
        name: value
        for name, value in os.environ.items()
        # pytest-django sets DJANGO_SETTINGS_MODULE for this session; runtests.py sets its own.
        if name not in {"DJANGO_SETTINGS_MODULE", "PYTEST_ADDOPTS", "PYTEST_PLUGINS", "PYTHONPATH"}
        and not name.startswith("PYTEST_XDIST")
    }
    env["PYTHONPATH"] = str(INJECT_DIR)
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["SIGNAL_PANEL_CONFORMANCE_MODE"] = mode
    return env


def baseline_problems(run: SuiteRun) -> list[str]:
    """Why a run does not count as a passing baseline (empty when it does)."""
    problems = [
        f"{test}: {outcome.outcome}\n{textwrap.indent(outcome.detail.rstrip(), '    ')}"
        for test, outcome in sorted(run.outcomes.items())
        if outcome.outcome not in PASSING
    ]
    if not run.outcomes:
        problems.append("no test reported an outcome")
    if run.returncode != 0 and not problems:
        problems.append(f"the run exited with {run.returncode}")
    return problems


@dataclass(frozen=True)
class Difference:
    """A test whose outcome in a mode is not its baseline outcome."""

    test: str
    expected: str
    got: str
    #: The test's error output (from the mode's run, else from the baseline's); empty for a test
    #: that did not run, whose cause is in the run's output.
    detail: str

    def describe(self, mode: str) -> str:
        text = f"{self.test}: {self.expected} {MODE_LABELS['vanilla']}, "
        text += f"{self.got} {MODE_LABELS[mode]}"
        return text + (f"\n{textwrap.indent(self.detail, '    ')}" if self.detail else "")


def differences(baseline: SuiteRun, run: SuiteRun) -> list[Difference]:
    """Each test whose outcome in ``run`` is not its outcome in ``baseline``, by test id."""
    found = []
    for test in sorted(baseline.outcomes.keys() | run.outcomes.keys()):
        expected = baseline.outcomes.get(test, Outcome("not run"))
        got = run.outcomes.get(test, Outcome("not run"))
        if expected.outcome != got.outcome:
            detail = (got.detail or expected.detail).rstrip()
            found.append(Difference(test, expected.outcome, got.outcome, detail))
    return found
