"""The Python examples of README.md and docs/ run, with the example project's settings.

Every ```` ```python ```` block is an example, and runs in one of three ways, by its first line:

- ``# settings.py``: a settings fragment, run over a project's settings without the toolbar and
  this app; what it configures must be valid (and, under ``if DEBUG:``, absent without DEBUG).
- ``# test_<name>.py``: a test module, run by pytest in a subprocess (with the plugin loaded by
  its entry point, as in a user's project); every test in it must pass.
- anything else: code run here, inside a test with database access; its ``assert`` lines must hold.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import demo_site.settings
from signal_panel.conf import validate

ROOT = Path(__file__).resolve().parent.parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
FENCE = re.compile(r"^```python\n(.*?)^```$", re.M | re.S)
TEST_MODULE = re.compile(r"# (test_\w+\.py)\n")


def examples() -> Iterator[Any]:
    for page in PAGES:
        if "_build" in page.parts:
            continue
        text = page.read_text()
        for match in FENCE.finditer(text):
            line = text.count("\n", 0, match.start()) + 2
            name = f"{page.relative_to(ROOT)}:{line}"
            yield pytest.param(name, match.group(1), id=name)


EXAMPLES = list(examples())


def test_there_are_examples_of_every_kind() -> None:
    firsts = [code.split("\n", 1)[0] for _name, code in (p.values for p in EXAMPLES)]
    assert "# settings.py" in firsts
    assert any(TEST_MODULE.match(f"{first}\n") for first in firsts)
    assert len(EXAMPLES) > 10


def project_settings(debug: bool) -> dict[str, Any]:
    """The example project's settings as a settings module's namespace, minus this package's
    configuration (the toolbar, its middleware, the panels, ``SIGNAL_PANEL``)."""
    namespace = {
        key: copy.deepcopy(value)
        for key, value in vars(demo_site.settings).items()
        if key.isupper()
    }
    namespace["__name__"] = "settings"
    namespace["DEBUG"] = debug
    namespace["INSTALLED_APPS"] = [
        app for app in namespace["INSTALLED_APPS"] if app not in ("debug_toolbar", "signal_panel")
    ]
    namespace["MIDDLEWARE"] = [m for m in namespace["MIDDLEWARE"] if "debug_toolbar" not in m]
    for key in ("DEBUG_TOOLBAR_PANELS", "SIGNAL_PANEL"):
        namespace.pop(key)
    return namespace


def run_settings(name: str, code: str, debug: bool) -> dict[str, Any]:
    namespace = project_settings(debug)
    exec(compile(code, name, "exec"), namespace)
    return namespace


def check_settings(name: str, code: str) -> None:
    configured = run_settings(name, code, debug=True)
    if "SIGNAL_PANEL" in configured:
        assert validate(configured["SIGNAL_PANEL"]) == []
    if "INSTALLED_APPS" in code:
        apps = configured["INSTALLED_APPS"]
        assert {"debug_toolbar", "signal_panel"} <= set(apps)
        assert len(apps) == len(set(apps)), "an app is listed twice"
        assert "signal_panel.panels.SignalPanel" in configured["DEBUG_TOOLBAR_PANELS"]
        assert "debug_toolbar.panels.sql.SQLPanel" in configured["DEBUG_TOOLBAR_PANELS"]
    if "if DEBUG:" in code:
        production = run_settings(name, code, debug=False)
        assert "signal_panel" not in production["INSTALLED_APPS"]
        assert "debug_toolbar" not in production["INSTALLED_APPS"]
        assert not any("debug_toolbar" in m for m in production["MIDDLEWARE"])


def check_test_module(pytester: pytest.Pytester, filename: str, code: str) -> None:
    pytester.makepyfile(**{filename.removesuffix(".py"): code})
    result = pytester.runpytest_subprocess(
        "--ds=demo_site.settings", "-p", "no:cacheprovider", "-p", "no:asyncio", "-W", "error"
    )
    outcomes = result.parseoutcomes()
    assert outcomes.get("passed", 0) >= 1, result.stdout.str()
    assert outcomes.keys() == {"passed"}, result.stdout.str()


@pytest.fixture
def fast_passwords(settings: Any) -> None:
    # load_demo_data creates a superuser: a fast hasher keeps the examples quick.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.mark.parametrize(("name", "code"), EXAMPLES)
def test_example(
    name: str,
    code: str,
    db: None,
    fast_passwords: None,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first = code.split("\n", 1)[0]
    if first == "# settings.py":
        check_settings(name, code)
    elif module := TEST_MODULE.match(f"{first}\n"):
        monkeypatch.setenv("PYTHONPATH", str(ROOT))
        check_test_module(request.getfixturevalue("pytester"), module.group(1), code)
    else:
        exec(compile(code, name, "exec"), {"__name__": "__example__"})
