"""The upstream suites pass without the package, and give the same outcomes with it (see
:mod:`tests.conformance` for what runs, and how)."""

from __future__ import annotations

import django
import pytest

from tests.conformance import sources, suites

PARAMS = [
    pytest.param(suite, mode, id=f"{suite}-{mode}")
    for suite in suites.SUITES
    for mode in suites.MODES
]


def _run(suite: str, mode: str) -> suites.SuiteRun:
    try:
        return suites.run(suite, mode)
    except sources.UnpinnedVersionError as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.mark.parametrize(("suite", "mode"), PARAMS)
def test_upstream_suite(suite: str, mode: str) -> None:
    title = suites.SUITES[suite].title
    baseline = _run(suite, "vanilla")
    if mode == "vanilla":
        problems = suites.baseline_problems(baseline)
        assert not problems, (
            f"{title} do not pass without the package, so they say nothing about it:\n\n"
            + "\n\n".join(problems)
            + f"\n\nlast lines of the run:\n{baseline.tail()}"
        )
        return
    if suites.baseline_problems(baseline):
        pytest.fail(
            f"{title} do not pass without the package (see {suite}-vanilla): "
            f"nothing to compare {suites.MODE_LABELS[mode]} with",
            pytrace=False,
        )
    run = _run(suite, mode)
    found = suites.differences(baseline, run)
    problems = [difference.describe(mode) for difference in found]
    # A failing test changes the exit code too; a changed exit code alone (a crash at exit, a
    # warning turned error outside any test) needs the run's output, as does a test that did not
    # run at all.
    if not found and run.returncode != baseline.returncode:
        problems.append(f"the run exited with {run.returncode} (baseline: {baseline.returncode})")
    if any(not difference.detail for difference in found) or (problems and not found):
        problems.append(f"last lines of the run:\n{run.tail()}")
    assert not problems, (
        f"{len(found)} of {len(baseline.outcomes)} tests of {title} do not give their baseline "
        f"outcome {suites.MODE_LABELS[mode]}:\n\n" + "\n\n".join(problems)
    )
    if mode == "record":
        outside = sorted(test for test in run.outcomes if test not in run.recorded)
        assert not outside, f"these tests of {title} ran outside record_signals(): {outside}"
        unreached = sorted(run.unreached)
        assert not unreached, (
            f"these tests of {title} run in a context of their own, which record_signals() "
            f"started by the harness does not reach: {unreached}"
        )
        assert any(run.recorded.values()), f"no test of {title} recorded a single send"


def test_django_tests_ran_on_the_installed_django() -> None:
    """runtests.py must not have picked up another Django (only tests/ is extracted)."""
    run = _run("django", "vanilla")
    assert run.django["version"] == django.__version__
    assert run.django["path"] == django.__file__
