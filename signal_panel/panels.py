"""The debug-toolbar panel: list ``"signal_panel.panels.SignalPanel"`` in ``DEBUG_TOOLBAR_PANELS``.

Per request the toolbar calls :meth:`SignalPanel.enable_instrumentation` before the view, which
starts a :class:`~signal_panel.recording.Recording` in the request's context, and
:meth:`SignalPanel.disable_instrumentation` after it, in the same context (the toolbar's middleware
calls both from the same function, on WSGI and on ASGI). :meth:`SignalPanel.generate_stats` then
turns the recording into plain data (``signal_panel.stats``); the template only reads that data,
so the panel renders the same from the toolbar's store (history panel, ``DatabaseStore``).
"""

from __future__ import annotations

from typing import Any

from debug_toolbar.panels import Panel
from django.apps import apps
from django.core import checks
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from signal_panel import recording
from signal_panel.recording import Recording
from signal_panel.stats import empty_stats, stored_stats, template_context

__all__ = ["SignalPanel"]


TEMPLATE = "signal_panel/panel.html"


def render_content(stats: dict[str, Any]) -> str:
    """The panel's HTML for ``stats`` (what ``SignalPanel.content`` returns)."""
    return render_to_string(TEMPLATE, template_context(stats))


def _subtitle_ms(ms: float) -> str:
    return f"{ms:.2f}" if ms < 1 else f"{ms:.1f}"


class SignalPanel(Panel):
    """Every Django and blinker signal sent during the request, its receivers, and problems.

    Its ``panel_id`` is ``"SignalPanel"``, so it can be enabled beside the toolbar's own
    ``SignalsPanel``, which it supersedes.
    """

    is_async = True
    title = _("Signal activity")
    nav_icon = "debug_toolbar/img/signals.svg"  # type: ignore[assignment]  # None in the base
    template = TEMPLATE

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._recording: Recording | None = None
        self._token: object = None

    def _stats(self) -> dict[str, Any]:
        stats: dict[str, Any] = self.get_stats()  # type: ignore[no-untyped-call]
        return stats

    @property
    def nav_subtitle(self) -> str:
        stats = self._stats()
        if not stats:
            return ""
        sends = stats["send_count"]
        calls = stats["call_count"]
        parts = [
            ngettext("%(count)d send", "%(count)d sends", sends) % {"count": sends},
            ngettext("%(count)d call", "%(count)d calls", calls) % {"count": calls},
            _("%(ms)s ms") % {"ms": _subtitle_ms(stats["receiver_ms"])},
        ]
        problems = stats["problem_count"]
        if problems:
            parts.append(
                ngettext("%(count)d problem", "%(count)d problems", problems) % {"count": problems}
            )
        return " · ".join(parts)

    @property
    def content(self) -> str:
        return render_content(self._stats())

    @property
    def scripts(self) -> list[str]:
        scripts: list[str] = super().scripts
        scripts.append(static("signal_panel/js/panel.js"))
        return scripts

    def enable_instrumentation(self) -> None:
        if self._recording is None:
            self._recording = Recording()
            self._token = recording.start(self._recording)

    def disable_instrumentation(self) -> None:
        if self._recording is not None and self._recording.active:
            recording.stop(self._recording, self._token)

    def generate_stats(self, request: HttpRequest, response: HttpResponse) -> None:
        self.disable_instrumentation()
        if self._recording is None:
            stats = empty_stats()
        else:
            stats = stored_stats(self._recording)
            # The recording holds references to signals and nested objects: keep only the stats.
            self._recording = None
        self.record_stats(stats)  # type: ignore[no-untyped-call]

    def generate_server_timing(self, request: HttpRequest, response: HttpResponse) -> None:
        stats = self._stats()
        if stats:
            # The description goes into an HTTP header as is: keep it ASCII and free of quotes.
            calls = stats["call_count"]
            title = f"Signal receivers ({calls} call{'' if calls == 1 else 's'})"
            self.record_server_timing(  # type: ignore[no-untyped-call]
                "receivers", title, stats["receiver_ms"]
            )

    @classmethod
    def run_checks(cls) -> list[checks.CheckMessage]:
        if apps.is_installed("signal_panel"):
            return []  # The app registers its own settings check.
        from signal_panel.checks import check_settings

        return [
            checks.Error(
                "signal_panel.panels.SignalPanel is in DEBUG_TOOLBAR_PANELS but 'signal_panel' "
                "is not in INSTALLED_APPS.",
                hint="Add 'signal_panel' to INSTALLED_APPS so the panel finds its templates "
                "and static files.",
                id="signal_panel.E002",
            ),
            *check_settings(),
        ]
