"""The index page, and the one template every scenario page renders."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from demo_site.scenarios import SCENARIOS, by_slug


def index(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "demo_site/index.html",
        {
            "uses": [s for s in SCENARIOS if s.group == "use"],
            "pitfalls": [s for s in SCENARIOS if s.group == "pitfall"],
        },
    )


def render_scenario(request: HttpRequest, slug: str, outcome: list[str]) -> HttpResponse:
    """The scenario's page: its two lines, then ``outcome``, what the request just did."""
    scenario = by_slug(slug)
    following = SCENARIOS[(SCENARIOS.index(scenario) + 1) % len(SCENARIOS)]
    return render(
        request,
        "demo_site/scenario.html",
        {"scenario": scenario, "outcome": outcome, "next": following},
    )
