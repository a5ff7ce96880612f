"""Shared test set-up."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

# pytest's own fixture for running pytest on generated test files (tests/test_pytest_plugin.py).
pytest_plugins = ["pytester"]


@pytest.fixture
def site_library(tmp_path: Path) -> Iterator[Callable[[str, str], ModuleType]]:
    """``site_library("package.module", source)``: writes the module of a library installed in a
    ``site-packages`` directory (which the package counts as a library's code, not the project's)
    and imports it. The directory and the modules are gone after the test."""
    root = tmp_path / "site-packages"
    made: list[str] = []
    sys.path.insert(0, str(root))

    def install(dotted: str, source: str) -> ModuleType:
        package, _, module = dotted.rpartition(".")
        directory = root / package.replace(".", "/")
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "__init__.py").touch()
        (directory / f"{module}.py").write_text(source)
        made.extend([package, dotted])
        return importlib.import_module(dotted)

    yield install
    sys.path.remove(str(root))
    for name in made:
        sys.modules.pop(name, None)


@pytest.fixture
def connect() -> Iterator[Callable[..., None]]:
    """``connect(signal, receiver, **kwargs)``: connected for the duration of the test."""
    made: list[tuple[Any, Any, dict[str, Any]]] = []

    def connect(signal: Any, receiver: Any, **kwargs: Any) -> None:
        signal.connect(receiver, **kwargs)
        made.append((signal, receiver, kwargs))

    yield connect
    for signal, receiver, kwargs in made:
        signal.disconnect(
            receiver, sender=kwargs.get("sender"), dispatch_uid=kwargs.get("dispatch_uid")
        )
