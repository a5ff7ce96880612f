"""The installed package's metadata: what it requires, its version, the versions it claims."""

from __future__ import annotations

import ast
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement

import signal_panel

ROOT = Path(__file__).resolve().parent.parent


def requirements() -> dict[str, Requirement]:
    found = (Requirement(line) for line in metadata.requires("django-signal-panel") or [])
    return {req.name.lower(): req for req in found if req.marker is None}


def noxfile_stacks() -> list[tuple[str, str]]:
    """``STACKS`` of noxfile.py, read without importing nox: ``[(python, django), ...]``."""
    tree = ast.parse((ROOT / "noxfile.py").read_text())
    constants: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            name = node.targets[0].id
            if name.startswith("DJANGO_"):
                constants[name] = ast.literal_eval(node.value)
            elif name == "STACKS":
                stacks = []
                for stack in node.value.elts:
                    python, django = stack.elts
                    stacks.append((ast.literal_eval(python), constants[django.id]))
                return stacks
    raise AssertionError("noxfile.py has no STACKS")


def test_blinker_is_a_requirement() -> None:
    assert "blinker" in requirements()


def test_django_and_the_toolbar_are_requirements() -> None:
    assert {"django", "django-debug-toolbar"} <= requirements().keys()


def test_the_version_is_the_package_version() -> None:
    assert metadata.version("django-signal-panel") == signal_panel.__version__


def test_classifiers_name_every_tested_python_and_django() -> None:
    classifiers = metadata.metadata("django-signal-panel").get_all("Classifier") or []
    for python, django in noxfile_stacks():
        assert f"Programming Language :: Python :: {python}" in classifiers
        feature = ".".join(django.split(".")[:2])
        assert f"Framework :: Django :: {feature}" in classifiers


def test_the_matrix_pins_exact_django_releases() -> None:
    for _python, django in noxfile_stacks():
        assert len(django.split(".")) == 3, django
