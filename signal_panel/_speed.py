"""Which hot path runs: the compiled ``signal_panel._hotpath_c`` (built from ``_hotpath_c.pyx``) or
its pure-Python twin :mod:`signal_panel._hotpath`.

The compiled module is used when it was built from the ``_hotpath_c.pyx`` next to it (it carries
that source's SHA-256; a module left over from an older source would run old code) and
``SIGNAL_PANEL_PURE_PYTHON`` is not set. Otherwise the pure-Python module runs, with the same
behaviour, more slowly: README's *Benchmarks* says by how much.
"""

from __future__ import annotations

import hashlib
import os
import types
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

from signal_panel import _hotpath

__all__ = ["COMPILED", "hot", "why_pure"]

#: The Cython source of the compiled module.
SOURCE = Path(_hotpath.__file__).with_name("_hotpath_c.pyx")


def _source_digest() -> str:
    return hashlib.sha256(SOURCE.read_bytes()).hexdigest()


def _choose() -> tuple[types.ModuleType, str]:
    if os.environ.get("SIGNAL_PANEL_PURE_PYTHON"):
        return _hotpath, "SIGNAL_PANEL_PURE_PYTHON is set"
    try:
        from signal_panel import _hotpath_c  # type: ignore[attr-defined]
    except ImportError as error:
        return _hotpath, f"the compiled module is not installed ({error})"
    try:
        current = _source_digest() == _hotpath_c.SOURCE_SHA256
    except OSError:  # no source next to it: trust the build
        current = True
    if not current:
        warnings.warn(
            "signal_panel._hotpath_c was compiled from another _hotpath_c.pyx; using the "
            "pure-Python hot path. Rebuild it: pip install -e . (or make build).",
            RuntimeWarning,
            stacklevel=2,
        )
        return _hotpath, "the compiled module is stale"
    return _hotpath_c, ""


_chosen, why_pure = _choose()
if TYPE_CHECKING:  # both modules have the same functions; type-check against the source
    hot = _hotpath
else:
    hot = _chosen
#: Whether the compiled hot path runs.
COMPILED: bool = _chosen is not _hotpath
