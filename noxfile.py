"""The test matrix, the docs, the package and the example project, driven by nox.

``make test`` runs the default sessions (``lint``, one ``tests-…`` session per stack, ``docs`` and
``package``); ``make demo``, ``make docs``, ``make bench`` and ``make screenshots`` run the others.
Run one stack with ``.venv/tools/bin/nox -s tests-django6.0``.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import nox
from nox.command import CommandFailed

# The exact Django releases the matrix tests, one per stack. Change them here only.
DJANGO_5_2 = "5.2.19"
DJANGO_6_0 = "6.0.10"
DJANGO_6_1 = "6.1.3"

#: (Python, Django) per stack; the first is the main stack (lint, coverage, docs, package, demo).
STACKS = [("3.11", DJANGO_5_2), ("3.12", DJANGO_6_0), ("3.13", DJANGO_6_1)]
MAIN_PYTHON, MAIN_DJANGO = STACKS[0]

ROOT = Path(__file__).resolve().parent

nox.options.envdir = ".venv/nox"
nox.options.reuse_venv = "yes"
nox.options.error_on_missing_interpreters = True
nox.options.sessions = [
    "lint",
    *(f"tests-django{django.rsplit('.', 1)[0]}" for _, django in STACKS),
    "docs",
    "package",
]


def interpreter(version: str) -> str:
    """The path of a Python ``version`` (``"3.12"``): on ``PATH``, else installed by pyenv."""
    found = shutil.which(f"python{version}")
    if found and subprocess.run([found, "-c", ""], capture_output=True).returncode == 0:
        return found
    pyenv = os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))
    candidates = sorted(
        glob.glob(f"{pyenv}/versions/{version}.*/bin/python{version}"),
        key=lambda path: [int(part) for part in path.split("/")[-3].split(".") if part.isdigit()],
    )
    # nox reports a missing interpreter by the name it was given.
    return candidates[-1] if candidates else version


def install_stack(session: nox.Session, django: str, *extras: str) -> None:
    """The package (editable) with ``extras``, the pinned Django and the newest toolbar."""
    session.install("--upgrade", "pip")
    session.install("-e", f".[{','.join(('test', *extras))}]", f"Django=={django}")
    session.install("--upgrade", "django-debug-toolbar")
    session.run("python", "-m", "pip", "list", "--format=freeze", silent=False)


def make_tests_session(python: str, django: str) -> None:
    main = (python, django) == (MAIN_PYTHON, MAIN_DJANGO)

    def tests(session: nox.Session) -> None:
        install_stack(session, django, *(["cov"] if main else []))
        suites = {
            "core suite": ["-m", "pytest", *session.posargs],
            "demo suite": [
                "-m",
                "pytest",
                "tests/demo",
                "--ds=demo_site.settings",
                *session.posargs,
            ],
            # The admin, django-simple-history and django-taggit through the real toolbar.
            "third-party suite": [
                "-m",
                "pytest",
                "tests/thirdparty",
                "--ds=tests.thirdparty.settings",
                *session.posargs,
            ],
        }
        # Branch coverage of signal_panel over both suites, on the main stack. `coverage run`
        # rather than pytest-cov: pytest imports the package (its pytest11 plugin) before
        # pytest-cov would start measuring, which would leave every import-time line uncovered.
        if main:
            session.run("coverage", "erase")
        failed = []
        for index, (suite, args) in enumerate(suites.items()):
            runner = ["coverage", "run", *(["--append"] if index else [])] if main else ["python"]
            try:
                session.run(*runner, *args)
            except CommandFailed:
                failed.append(suite)
        if main:
            session.run("coverage", "report")
        if failed:
            message = f"Django {django} on Python {python}: the {' and the '.join(failed)} failed"
            session.warn(message)
            raise CommandFailed(message)

    tests.__doc__ = f"The suite on Django {django}, Python {python}."
    name = f"tests-django{django.rsplit('.', 1)[0]}"
    nox.session(tests, python=interpreter(python), name=name)


for _python, _django in STACKS:
    make_tests_session(_python, _django)


@nox.session(python=interpreter(MAIN_PYTHON))
def lint(session: nox.Session) -> None:
    """ruff check, ruff format --check and mypy --strict, once, on the main stack."""
    install_stack(session, MAIN_DJANGO, "lint")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("mypy")


@nox.session(python=interpreter(MAIN_PYTHON))
def docs(session: nox.Session) -> None:
    """Build the Sphinx site into docs/_build/html; warnings are errors."""
    install_stack(session, MAIN_DJANGO, "docs")
    shutil.rmtree(ROOT / "docs/_build", ignore_errors=True)
    session.run(
        "sphinx-build", "-W", "--keep-going", "-n", "-q", "-b", "html", "docs", "docs/_build/html"
    )
    session.log(f"Open {ROOT / 'docs/_build/html/index.html'}")


@nox.session(python=interpreter(MAIN_PYTHON))
def package(session: nox.Session) -> None:
    """Build the sdist and the wheel, check them, and smoke-test the wheel in a fresh virtualenv."""
    session.install("--upgrade", "pip")
    session.install("build", "twine")
    dist = ROOT / "dist"
    shutil.rmtree(dist, ignore_errors=True)
    session.run("python", "-m", "build", "--outdir", str(dist), ".")
    session.run("twine", "check", "--strict", *map(str, sorted(dist.iterdir())))
    session.run("python", "tests/packaging/check_dist.py", str(dist))
    # A virtualenv of its own, outside the project, with nothing but the wheel and what it
    # requires; the smoke test runs from a directory where the source tree cannot be imported.
    with tempfile.TemporaryDirectory(prefix="signal-panel-smoke-") as tmp:
        venv = Path(tmp) / "venv"
        session.run("python", "-m", "venv", str(venv))
        python = str(venv / "bin/python")
        wheel = next(dist.glob("*.whl"))
        session.run(python, "-m", "pip", "install", "--quiet", str(wheel), external=True)
        smoke = Path(tmp) / "smoke.py"
        shutil.copy(ROOT / "tests/packaging/smoke.py", smoke)
        session.run(python, str(smoke), external=True, env={"PYTHONPATH": ""})


@nox.session(python=interpreter(MAIN_PYTHON))
def demo(session: nox.Session) -> None:
    """The example project on http://127.0.0.1:8000/ (``nox -s demo -- 8080`` for another port)."""
    install_stack(session, MAIN_DJANGO)
    port = session.posargs[0] if session.posargs else "8000"
    manage = ["python", "demo_site/manage.py"]
    session.run(*manage, "migrate", "--noinput")
    session.run(*manage, "load_demo_data")
    session.run(*manage, "runserver", f"127.0.0.1:{port}")


@nox.session(python=interpreter(MAIN_PYTHON))
def screenshots(session: nox.Session) -> None:
    """Retake the pictures in docs/ with Chromium."""
    install_stack(session, MAIN_DJANGO)
    env = {"SCREENSHOTS": "1"}
    session.run("python", "-m", "pytest", "tests/browser", "-m", "browser", env=env)
    # README's screenshot (docs/panel.png): the admin of real third-party apps.
    session.run(
        "python",
        "-m",
        "pytest",
        "tests/thirdparty/test_browser.py",
        "--ds=tests.thirdparty.settings",
        env=env,
    )
    session.run(
        "python",
        "-m",
        "pytest",
        "tests/demo/test_screenshots.py",
        "--ds=demo_site.settings",
        "-m",
        "browser",
        env=env,
    )


@nox.session(python=interpreter(MAIN_PYTHON))
def bench(session: nox.Session) -> None:
    """The benchmarks (the tables of docs/benchmarks.md)."""
    install_stack(session, MAIN_DJANGO)
    for script in ("benchmarks/run.py", "benchmarks/floor.py", "benchmarks/real_page.py"):
        session.run("python", script, *session.posargs)
