"""Which hot path runs: the module compiled from ``_hotpath_c.pyx``, or its pure-Python twin
``_hotpath.py``; and what keeps the two alike.

The rest of the suite runs on whichever is chosen; ``make test`` runs it on both (``test-pure``).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.dispatch import Signal

import signal_panel
from signal_panel import _context, _describe, _hotpath, _speed, record_signals
from tests.testapp.models import Author

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.skipif(
    not os.environ.get("SIGNAL_PANEL_EXPECT_COMPILED"),
    reason="make test sets SIGNAL_PANEL_EXPECT_COMPILED where it compiled the hot path",
)
def test_the_compiled_hot_path_is_the_one_recording_sends() -> None:
    assert _speed.COMPILED, _speed.why_pure
    assert _speed.hot.__name__ == "signal_panel._hotpath_c"
    assert _speed._source_digest() == _speed.hot.SOURCE_SHA256
    # Django's Signal.send, while recording, is the compiled function.
    signal = Signal()
    signal.connect(lambda sender, **kwargs: None, weak=False)
    with record_signals():
        assert type(Signal.send).__name__ != "function"
        assert signal.send(sender=None)[0][1] is None


def run_python(code: str, **env: str) -> str:
    completed = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, **env},
        check=True,
    )
    return completed.stdout.strip() + completed.stderr.strip()


def test_signal_panel_pure_python_chooses_the_source_module() -> None:
    out = run_python(
        "from signal_panel import _speed; print(_speed.COMPILED, _speed.hot.__name__, "
        "_speed.why_pure)",
        SIGNAL_PANEL_PURE_PYTHON="1",
    )
    assert out == "False signal_panel._hotpath SIGNAL_PANEL_PURE_PYTHON is set"


def test_a_compiled_module_built_from_another_source_is_not_used(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pytest.importorskip("signal_panel._hotpath_c")
    monkeypatch.delenv("SIGNAL_PANEL_PURE_PYTHON", raising=False)
    monkeypatch.setattr(_speed, "_source_digest", lambda: "0" * 64)
    try:
        with pytest.warns(RuntimeWarning, match="compiled from another _hotpath_c.pyx"):
            chosen, why = _speed._choose()
    finally:
        monkeypatch.undo()
    assert chosen is _hotpath
    assert why == "the compiled module is stale"


def test_without_a_compiled_module_the_source_module_runs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("SIGNAL_PANEL_PURE_PYTHON", raising=False)
    monkeypatch.setitem(sys.modules, "signal_panel._hotpath_c", None)  # import fails
    monkeypatch.delattr(signal_panel, "_hotpath_c", raising=False)
    chosen, why = _speed._choose()
    assert chosen is _hotpath
    assert why.startswith("the compiled module is not installed")


def test_both_modules_offer_the_same_names() -> None:
    compiled = pytest.importorskip("signal_panel._hotpath_c")
    assert compiled.__all__ == _hotpath.__all__
    assert all(hasattr(compiled, name) for name in compiled.__all__)


def test_the_compiled_module_uses_the_row_layout_of_the_source() -> None:
    compiled = pytest.importorskip("signal_panel._hotpath_c")
    assert compiled.LAYOUT
    assert {name: getattr(_context, name) for name in compiled.LAYOUT} == compiled.LAYOUT


def test_both_find_the_same_call_site() -> None:
    compiled = pytest.importorskip("signal_panel._hotpath_c")

    def caller() -> tuple[Any, Any]:
        return compiled.find_callsite(), _hotpath.find_callsite()

    found, expected = caller()
    assert found[0] is expected[0] is caller.__code__
    line = caller.__code__.co_firstlineno + 1
    assert _describe.line_at(found[0], found[1]) == line
    assert _describe.line_at(expected[0], expected[1]) == line
    assert _describe.format_callsite(*found).endswith(
        f"test_speed.py:{line} in {caller.__qualname__}"
    )


@pytest.mark.django_db
def test_both_take_the_same_snapshot() -> None:
    compiled = pytest.importorskip("signal_panel._hotpath_c")
    saved = Author.objects.create(name="saved")
    unsaved = Author(name="unsaved")
    named = {
        "instance": saved,
        "new": unsaved,
        "pk_set": {1, 2},
        "rows": list(range(100)),
        "data": b"bytes",
        "flag": True,
        "mapping": {"a": [1]},
    }
    taken = compiled.snapshot(named)
    assert taken == _hotpath.snapshot(named)
    assert taken[:6] == ("instance", _describe._TOOK_PK, saved.pk, "new", _describe._TOOK_PK, None)
    assert compiled.snapshot({}) is _hotpath.snapshot({}) is None
    assert compiled.pack_kwargs(named) == _hotpath.pack_kwargs(named)
    assert compiled.shared_keys(named) == tuple(named) == _hotpath.shared_keys(named)
