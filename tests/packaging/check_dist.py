"""Check what the built sdist and wheel contain: ``python tests/packaging/check_dist.py dist/``.

Run by ``make test`` (the ``package`` session of noxfile.py) after ``python -m build``. Prints one
line per check and exits non-zero when one fails.
"""

from __future__ import annotations

import email
import sys
import tarfile
import zipfile
from collections.abc import Callable
from pathlib import Path

NAME = "django_signal_panel"
#: Nothing of these belongs in a distribution: compiled or generated files and build leftovers.
FORBIDDEN_SUFFIXES = (".so", ".pyd", ".c", ".pyx", ".pxd", ".html.py", ".pyc", ".pyo", ".o")
FORBIDDEN_PARTS = {
    ".venv",
    ".nox",
    "__pycache__",
    "build",
    "dist",
    "_build",
    ".git",
    ".mypy_cache",
    ".ruff_cache",
    ".pytest_cache",
    ".hypothesis",
    ".coverage",
    "db.sqlite3",
}


def wheel_names(dist: Path) -> list[str]:
    [wheel] = dist.glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        return archive.namelist()


def sdist_names(dist: Path) -> list[str]:
    [sdist] = dist.glob("*.tar.gz")
    with tarfile.open(sdist) as archive:
        # Every member sits under "django_signal_panel-<version>/".
        return [
            member.name.split("/", 1)[1] for member in archive.getmembers() if "/" in member.name
        ]


def check_wheel_is_pure(dist: Path) -> None:
    [wheel] = dist.glob("*.whl")
    assert wheel.name.endswith("-py3-none-any.whl"), wheel.name
    with zipfile.ZipFile(wheel) as archive:
        [wheel_file] = [n for n in archive.namelist() if n.endswith(".dist-info/WHEEL")]
        tags = email.message_from_bytes(archive.read(wheel_file)).get_all("Tag")
    assert tags == ["py3-none-any"], tags
    assert "Root-Is-Purelib: true" in archive_text(wheel, wheel_file)


def archive_text(wheel: Path, name: str) -> str:
    with zipfile.ZipFile(wheel) as archive:
        return archive.read(name).decode()


def check_wheel_holds_the_package(dist: Path) -> None:
    names = wheel_names(dist)
    for needed in (
        "signal_panel/__init__.py",
        "signal_panel/py.typed",
        "signal_panel/panels.py",
        "signal_panel/templates/signal_panel/panel.html",
        "signal_panel/static/signal_panel/css/panel.css",
        "signal_panel/static/signal_panel/js/panel.js",
        "signal_panel/management/commands/signaltrace.py",
    ):
        assert needed in names, f"the wheel lacks {needed}"
    top = {name.split("/", 1)[0] for name in names}
    assert top == {"signal_panel", *(n for n in top if n.endswith(".dist-info"))}, top


def check_wheel_has_no_tests_or_leftovers(dist: Path) -> None:
    for name in wheel_names(dist):
        assert not name.startswith(("tests/", "demo_site/", "docs/", "benchmarks/")), name
        assert_clean(name)


def check_wheel_metadata(dist: Path) -> None:
    [wheel] = dist.glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        [metadata] = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        message = email.message_from_bytes(archive.read(metadata))
    requires = [line.split(";")[0].replace(" ", "") for line in message.get_all("Requires-Dist")]
    assert any(r.startswith("blinker") for r in requires), requires
    classifiers = message.get_all("Classifier")
    for needed in (
        "Programming Language :: Python :: 3.11",
        "Programming Language :: Python :: 3.12",
        "Programming Language :: Python :: 3.13",
        "Framework :: Django :: 5.2",
        "Framework :: Django :: 6.0",
        "Framework :: Django :: 6.1",
    ):
        assert needed in classifiers, f"no classifier {needed!r}"
    assert message["Version"] in wheel.name, (message["Version"], wheel.name)


def check_sdist_contents(dist: Path) -> None:
    names = sdist_names(dist)
    for needed in (
        "pyproject.toml",
        "README.md",
        "CHANGELOG.md",
        "LICENSE",
        "signal_panel/__init__.py",
    ):
        assert needed in names, f"the sdist lacks {needed}"
    for name in names:
        assert_clean(name)


def assert_clean(name: str) -> None:
    parts = set(name.split("/"))
    assert not parts & FORBIDDEN_PARTS, f"{name} should not be distributed"
    assert not name.endswith(FORBIDDEN_SUFFIXES), f"{name} should not be distributed"


CHECKS: list[Callable[[Path], None]] = [
    check_wheel_is_pure,
    check_wheel_holds_the_package,
    check_wheel_has_no_tests_or_leftovers,
    check_wheel_metadata,
    check_sdist_contents,
]


def main(dist: Path) -> int:
    failed = 0
    for check in CHECKS:
        try:
            check(dist)
        except AssertionError as error:
            failed += 1
            print(f"FAILED {check.__name__}: {error}")
        else:
            print(f"ok     {check.__name__}")
    print(f"dist checks: {len(CHECKS) - failed} of {len(CHECKS)} passed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
