"""Without blinker importable, Django's signals are still recorded and the registry says so."""

from __future__ import annotations

from typing import Any

import pytest

from tests.fresh import run_script

# Runs in a fresh interpreter where ``import blinker`` raises ImportError.
SCRIPT = """
import json, sys
sys.modules["blinker"] = None

import django
django.setup()

from django.dispatch import Signal
from signal_panel import record_signals, registry
from signal_panel.tracking import blinker as blinker_signals

placed = Signal()

def on_placed(sender, **kwargs):
    return "ok"

placed.connect(on_placed, weak=False)
with record_signals() as recording:
    responses = placed.send(sender=None, number=1)

known = registry.known_signals()
print(json.dumps({
    "available": blinker_signals.AVAILABLE,
    "libraries": [library.name for library in registry.libraries()],
    "responses": [response for _receiver, response in responses],
    "sends": [(send.library, [c.receiver_name for c in send.calls]) for send in recording.sends],
    "known_post_save": any(name == "django.db.models.signals.post_save" for name, _ in known),
    "receivers": [
        row["receiver"]
        for library in registry.libraries()
        for row in library.list_receivers(placed)
    ],
}))
"""


@pytest.fixture(scope="module")
def without_blinker() -> dict[str, Any]:
    result: dict[str, Any] = run_script(SCRIPT)
    return result


def test_blinker_is_reported_unavailable(without_blinker: dict[str, Any]) -> None:
    assert without_blinker["available"] is False


def test_only_django_is_registered(without_blinker: dict[str, Any]) -> None:
    assert without_blinker["libraries"] == ["django"]


def test_django_send_returns_as_usual(without_blinker: dict[str, Any]) -> None:
    assert without_blinker["responses"] == ["ok"]


def test_django_send_is_recorded(without_blinker: dict[str, Any]) -> None:
    assert without_blinker["sends"] == [["django", ["__main__.on_placed"]]]


def test_registry_still_knows_djangos_signals(without_blinker: dict[str, Any]) -> None:
    assert without_blinker["known_post_save"] is True


def test_registry_still_lists_receivers(without_blinker: dict[str, Any]) -> None:
    assert without_blinker["receivers"] == ["__main__.on_placed"]
