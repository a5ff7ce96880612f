from __future__ import annotations

import io
from collections.abc import Callable

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from demo_site.scenarios import SCENARIOS, Scenario
from demo_site.shop.models import Order, Product
from tests.demo.visits import Visit


@pytest.mark.django_db
def test_index_links_every_scenario(client: Client) -> None:
    html = client.get("/").content.decode()

    for scenario in SCENARIOS:
        assert f'href="{reverse(scenario.slug)}"' in html


@pytest.mark.django_db
def test_index_gives_each_scenario_its_two_lines(client: Client) -> None:
    html = client.get("/").content.decode()

    for scenario in SCENARIOS:
        assert scenario.title in html
        assert "Look for: " in html
        assert scenario.look_for.split(",")[0].replace("'", "&#x27;") in html


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.slug for s in SCENARIOS])
def test_every_scenario_page_sends_signals(
    visit: Callable[[str], Visit], scenario: Scenario
) -> None:
    page = visit(reverse(scenario.slug))

    assert scenario.title.encode() in page.response.content
    assert page.recording.call_count > 0


def test_load_demo_data_is_idempotent(demo_data: None) -> None:
    counts = (Product.objects.count(), Order.objects.count())

    call_command("load_demo_data", stdout=io.StringIO())

    assert (Product.objects.count(), Order.objects.count()) == counts
