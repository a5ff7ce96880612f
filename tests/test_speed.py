"""Which hot path runs: the module compiled from ``_hotpath.py``, or that source itself.

The rest of the suite runs on whichever is chosen; ``make test`` runs it on both (``test-pure``).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.dispatch import Signal

import signal_panel
from signal_panel import _hotpath, _speed, record_signals

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
        with pytest.warns(RuntimeWarning, match="compiled from another _hotpath.py"):
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


def test_both_modules_offer_the_same_functions() -> None:
    compiled = pytest.importorskip("signal_panel._hotpath_c")
    assert set(_hotpath.__all__) <= set(dir(compiled))
