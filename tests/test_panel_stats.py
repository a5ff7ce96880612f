"""The panel's stats (``signal_panel.stats``) and what its template makes of them: plain data,
folding, the row limit, problems, the by-receiver table, the registry, and settings checks."""

from __future__ import annotations

import gc
import inspect
import json
import sys
from collections.abc import Callable
from typing import Any

import pytest
from debug_toolbar.toolbar import DebugToolbar
from django.core import checks
from django.db import connection
from django.db.models.signals import post_init, post_save
from django.http import HttpResponse
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from signal_panel import record_signals, stats
from signal_panel.panels import SignalPanel, render_content
from signal_panel.problems import KINDS
from signal_panel.recording import Recording
from signal_panel.stats import expand, panel_stats, registry_stats, stored_stats
from tests import views
from tests.testapp.models import Author, Book, Tag

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_slow_receivers(settings: Any) -> None:
    """A busy machine must not add slow_receiver problems (tests that want some set their own)."""
    settings.SIGNAL_PANEL = {"SLOW_RECEIVER_MS": 10_000}


def render(data: dict[str, Any]) -> str:
    """The panel's HTML for these stats, after the store's JSON round trip."""
    return render_content(json.loads(json.dumps(data)))


def rows(data: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [row for row in data["timeline"] if row["type"] == kind]


def noop(sender: Any, **kwargs: Any) -> None:
    return None


def failing(sender: Any, **kwargs: Any) -> None:
    raise RuntimeError("boom")


def make_closure() -> Callable[..., None]:
    def closure(sender: Any, **kwargs: Any) -> None:
        return None

    return closure


def first_book(sender: Any, instance: Author, created: bool, **kwargs: Any) -> None:
    if created:
        Book.objects.create(title="first", author=instance)


# -- plain data ---------------------------------------------------------------------------------


def test_stats_survive_the_stores_json_round_trip(connect: Any) -> None:
    connect(post_save, first_book, sender=Author)
    with record_signals() as recording:
        Author.objects.create(name="Ursula")
    data = panel_stats(recording, registry_listing=True)
    assert json.loads(json.dumps(data)) == data


def test_stats_never_call_a_models_str() -> None:
    # tests.testapp.models.Author.__str__ raises AssertionError.
    with record_signals() as recording:
        Author.objects.create(name="Ursula")
    data = panel_stats(recording)
    assert "<testapp.Author pk=" in rows(data, "send")[-1]["kwargs"]


def test_building_and_rendering_run_no_query_and_send_no_signal(connect: Any) -> None:
    connect(post_save, first_book, sender=Author)
    with record_signals() as recording:
        Author.objects.create(name="Ursula")
    with CaptureQueriesContext(connection) as queries, record_signals() as own:
        render(panel_stats(recording, registry_listing=True))
    # Django's test environment sends template_rendered for every template: not the panel's.
    sent = [send.signal_name for send in own.sends]
    assert (queries.captured_queries, [n for n in sent if not n.endswith("template_rendered")]) == (
        [],
        [],
    )


def test_sender_whose_text_is_markup_shows_as_text() -> None:
    with record_signals() as recording:
        views.page_viewed.send(sender="<script>alert(1)</script>")
    content = render(panel_stats(recording))
    assert "<script>alert(1)" not in content
    assert "&#x27;&lt;script&gt;alert(1)&lt;/script&gt;&#x27;" in content


def test_receiver_name_with_angle_brackets_shows_as_text() -> None:
    closure = make_closure()
    views.page_viewed.connect(closure)
    try:
        with record_signals() as recording:
            views.page_viewed.send(sender=None)
    finally:
        views.page_viewed.disconnect(closure)
    content = render(panel_stats(recording, registry_listing=False))
    assert "make_closure.&lt;locals&gt;.closure" in content
    assert "<locals>" not in content


# -- timeline ------------------------------------------------------------------------------------


def test_send_row_shows_signal_sender_kwargs_and_call_site(connect: Any) -> None:
    connect(views.page_viewed, noop)
    with record_signals() as recording:
        views.page_viewed.send(sender="shop", path="/cart/")
    [row] = rows(panel_stats(recording), "send")
    assert (row["signal"], row["signal_name"], row["sender"], row["kwargs"], row["mode"]) == (
        "page_viewed",
        "tests.views.page_viewed",
        "'shop'",
        "path='/cart/'",
        "sync",
    )


def test_send_row_has_its_call_site() -> None:
    with record_signals() as recording:
        views.page_viewed.send(sender=None)
    [row] = rows(panel_stats(recording), "send")
    assert row["callsite"].startswith("tests/test_panel_stats.py:")


def test_call_row_shows_receiver_definition_and_outcome(connect: Any) -> None:
    connect(views.page_viewed, failing)
    with record_signals() as recording:
        views.page_viewed.send_robust(sender=None)
    [row] = rows(panel_stats(recording), "call")
    assert (row["receiver"], row["location"].split(":")[0], row["error"], row["swallowed"]) == (
        "tests.test_panel_stats.failing",
        "tests/test_panel_stats.py",
        "RuntimeError: boom",
        True,
    )


def test_robust_send_gets_a_robust_badge(connect: Any) -> None:
    connect(views.page_viewed, noop)
    with record_signals() as recording:
        views.page_viewed.send_robust(sender=None)
    assert '<span class="spBadge">robust</span>' in render(panel_stats(recording))


def test_send_inside_atomic_gets_a_badge() -> None:
    with record_signals() as recording:
        Author.objects.create(name="Ursula")
    [row] = [row for row in rows(panel_stats(recording), "send") if row["signal"] == "post_save"]
    assert row["in_atomic"] is True  # pytest-django runs each test in a transaction.


def test_bars_are_placed_within_the_recording(connect: Any) -> None:
    connect(views.page_viewed, noop)
    with record_signals() as recording:
        views.page_viewed.send(sender=None)
    [row] = rows(panel_stats(recording), "call")
    assert float(row["bar_x"]) >= 0
    assert float(row["bar_x"]) + float(row["bar_w"]) <= 100


def test_nested_send_is_folded_under_the_call_that_made_it(connect: Any) -> None:
    connect(post_save, first_book, sender=Author)
    with record_signals() as recording:
        Author.objects.create(name="Ursula")
    data = panel_stats(recording)
    [call] = [row for row in rows(data, "call") if row["receiver"].endswith("first_book")]
    nested = [row for row in data["timeline"] if f"djToggleDetails_{call['id']} " in row["css"]]
    assert {row["css"].rsplit(" ", 1)[-1] for row in nested} == {"djUnselected"}


def test_nested_rows_are_indented_deeper(connect: Any) -> None:
    connect(post_save, first_book, sender=Author)
    with record_signals() as recording:
        Author.objects.create(name="Ursula")
    data = panel_stats(recording)
    indents = {(row["signal"], row["sender"]): row["indent"] for row in rows(data, "send")}
    assert (indents[("post_save", "testapp.Author")], indents[("post_save", "testapp.Book")]) == (
        "0",
        "2",
    )


def test_run_of_sends_without_receivers_folds_into_one_row() -> None:
    Tag.objects.bulk_create([Tag(name=f"tag {n}") for n in range(500)])
    with record_signals() as recording:
        list(Tag.objects.all())
    data = panel_stats(recording)
    assert [(row["signal"], row["count"]) for row in rows(data, "run")] == [
        ("pre_init", "500"),
        ("post_init", "500"),
    ]


def test_folded_run_keeps_every_send_out_of_the_plain_rows() -> None:
    Tag.objects.bulk_create([Tag(name=f"tag {n}") for n in range(500)])
    with record_signals() as recording:
        list(Tag.objects.all())
    assert rows(panel_stats(recording), "send") == []


def test_sends_without_receivers_are_stored_folded_even_when_few() -> None:
    Tag.objects.bulk_create([Tag(name="a"), Tag(name="b")])
    with record_signals() as recording:
        list(Tag.objects.all())
    data = panel_stats(recording)
    assert rows(data, "send") == []
    assert [(row["signal"], row["count"]) for row in rows(data, "run")] == [
        ("pre_init", "2"),
        ("post_init", "2"),
    ]


def test_run_with_receivers_folds_with_one_row_per_receiver(connect: Any) -> None:
    connect(post_init, noop, sender=Tag)
    Tag.objects.bulk_create([Tag(name=f"tag {n}") for n in range(50)])
    with record_signals() as recording:
        list(Tag.objects.all())
    data = panel_stats(recording)
    assert [(row["receiver"], row["count"]) for row in rows(data, "runcall")] == [
        ("tests.test_panel_stats.noop", "50")
    ]


def test_send_with_an_error_never_folds(connect: Any) -> None:
    connect(views.page_viewed, failing)
    with record_signals() as recording:
        for _ in range(20):
            views.page_viewed.send_robust(sender=None)
    data = panel_stats(recording)
    assert (len(rows(data, "send")), rows(data, "run")) == (20, [])


def test_folded_row_renders_its_count() -> None:
    Tag.objects.bulk_create([Tag(name=f"tag {n}") for n in range(500)])
    with record_signals() as recording:
        list(Tag.objects.all())
    assert '<span class="spCount">\N{MULTIPLICATION SIGN}500</span>' in render(
        panel_stats(recording)
    )


def test_timeline_stops_at_its_row_limit_and_counts_the_rest(
    monkeypatch: pytest.MonkeyPatch, connect: Any
) -> None:
    monkeypatch.setattr(stats, "TIMELINE_ROWS", 10)
    connect(views.page_viewed, failing)
    with record_signals() as recording:
        for _ in range(20):
            views.page_viewed.send_robust(sender=None)
    data = panel_stats(recording)
    assert (len(data["timeline"]), data["timeline_left"]) == (10, {"sends": 15, "calls": 15})


def test_timeline_says_what_its_row_limit_left_out(
    monkeypatch: pytest.MonkeyPatch, connect: Any
) -> None:
    monkeypatch.setattr(stats, "TIMELINE_ROWS", 10)
    connect(views.page_viewed, failing)
    with record_signals() as recording:
        for _ in range(20):
            views.page_viewed.send_robust(sender=None)
    assert "15 more sends with 15 receiver calls are left out" in render(panel_stats(recording))


def test_truncated_recording_says_how_much_it_did_not_store(settings: Any, connect: Any) -> None:
    settings.SIGNAL_PANEL = {"MAX_CALLS": 5}
    connect(views.page_viewed, noop)
    with record_signals() as recording:
        for _ in range(8):
            views.page_viewed.send(sender=None)
    content = render(panel_stats(recording))
    assert "The recording reached <code>MAX_CALLS</code> (5 receiver calls)" in content
    assert "3 more receiver calls and 3 more sends were counted" in content


def test_empty_recording_renders_the_no_signals_message() -> None:
    assert "No signals were sent" in render(panel_stats(Recording(), registry_listing=False))


# -- problems ------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_every_problem_kind_renders_its_own_label(kind: str) -> None:
    recording = Recording()
    recording.events.append({"kind": kind, "message": f"message of {kind}"})
    content = render(panel_stats(recording, registry_listing=False))
    label = content.split('<span class="spKind">', 1)[1].split("</span>", 1)[0]
    assert (label != kind, f"message of {kind}" in content) == (True, True)


def test_problem_links_to_its_rows_in_the_timeline(connect: Any) -> None:
    connect(views.page_viewed, failing)
    with record_signals() as recording:
        views.page_viewed.send_robust(sender=None)
    data = panel_stats(recording)
    [problem] = data["problems"]
    [call] = rows(data, "call")
    assert [(t["row"], t["shown"]) for t in problem["targets"]] == [(call["id"], True)]


def test_problem_link_targets_a_row_id_the_html_has(connect: Any) -> None:
    connect(views.page_viewed, failing)
    with record_signals() as recording:
        views.page_viewed.send_robust(sender=None)
    content = render(panel_stats(recording))
    target = content.split('data-sp-row="', 1)[1].split('"', 1)[0]
    assert f'id="spRow_{target}"' in content


def test_duplicate_receiver_problem_lists_both_connection_places() -> None:
    one, two = make_closure(), make_closure()
    first_line = inspect.currentframe().f_lineno + 1  # type: ignore[union-attr]
    views.page_viewed.connect(one)
    views.page_viewed.connect(two)
    try:
        with record_signals() as recording:
            views.page_viewed.send(sender=None)
    finally:
        views.page_viewed.disconnect(one)
        views.page_viewed.disconnect(two)
    [problem] = [p for p in panel_stats(recording)["problems"] if p["kind"] == "duplicate_receiver"]
    here = "tests/test_panel_stats.py"
    assert {f"{here}:{first_line}", f"{here}:{first_line + 1}"} <= set(problem["locations"])


def save_again(sender: Any, instance: Author, **kwargs: Any) -> None:
    if len(instance.name) < 6:
        instance.name += "!"
        instance.save()


def test_recursion_problem_shows_its_chain(connect: Any) -> None:
    connect(post_save, save_again, sender=Author)
    with record_signals() as recording:
        Author.objects.create(name="Ann")
    [problem] = [p for p in panel_stats(recording)["problems"] if p["kind"] == "recursion"]
    assert problem["chain"] == ["tests.test_panel_stats.save_again (post_save)"] * 4


def test_problem_details_in_nanoseconds_read_as_milliseconds() -> None:
    recording = Recording()
    recording.events.append(
        {"kind": "slow_receiver", "message": "slow", "details": {"max_ns": 13_288_908}}
    )
    [problem] = panel_stats(recording)["problems"]
    assert problem["details"] == [{"name": "max", "text": "13.29 ms"}]


def test_slow_receiver_row_is_flagged(settings: Any, connect: Any) -> None:
    settings.SIGNAL_PANEL = {"SLOW_RECEIVER_MS": 0}
    connect(views.page_viewed, noop)
    with record_signals() as recording:
        views.page_viewed.send(sender=None)
    [row] = rows(panel_stats(recording), "call")
    assert (row["is_slow"], "djDebugRowWarning" in row["css"]) == (True, True)


# -- by receiver ---------------------------------------------------------------------------------


def test_receiver_table_totals_calls_and_errors(connect: Any) -> None:
    connect(views.page_viewed, failing)
    connect(views.page_viewed, noop)
    with record_signals() as recording:
        for _ in range(3):
            views.page_viewed.send_robust(sender=None)
    table = {
        row["receiver"]: (row["calls"], row["errors"])
        for row in panel_stats(recording)["receivers"]
    }
    assert table == {
        "tests.test_panel_stats.failing": (3, 3),
        "tests.test_panel_stats.noop": (3, 0),
    }


def test_receiver_table_is_sorted_by_total_time(connect: Any) -> None:
    connect(views.page_viewed, failing)
    connect(views.page_viewed, noop)
    with record_signals() as recording:
        views.page_viewed.send_robust(sender=None)
    totals = [row["total_ms"] for row in panel_stats(recording)["receivers"]]
    assert totals == sorted(totals, reverse=True)


def test_receiver_table_cells_carry_sort_values(connect: Any) -> None:
    connect(views.page_viewed, noop)
    with record_signals() as recording:
        views.page_viewed.send(sender=None)
    assert 'data-sp-value="1">1</td>' in render(panel_stats(recording))


def count_authors(sender: Any, **kwargs: Any) -> None:
    Author.objects.count()


def test_receiver_queries_show_in_the_timeline_and_the_table(connect: Any) -> None:
    connect(views.page_viewed, count_authors)
    with record_signals() as recording:
        views.page_viewed.send(sender=None)
    data = panel_stats(recording)
    [call] = rows(data, "call")
    [receiver] = data["receivers"]
    assert (call["queries"], receiver["queries"]) == (1, 1)


# -- registry ------------------------------------------------------------------------------------


def test_registry_lists_a_connected_receiver_with_its_details(connect: Any) -> None:
    connect(views.page_viewed, noop, dispatch_uid="registry-noop", weak=False)
    [signal] = [s for s in registry_stats()["signals"] if s["name"] == "tests.views.page_viewed"]
    [receiver] = [r for r in signal["receivers"] if r["receiver"].endswith(".noop")]
    assert (receiver["dispatch_uid"], receiver["weak"], receiver["is_async"]) == (
        "'registry-noop'",
        False,
        False,
    )


def test_registry_knows_django_signals_without_receivers() -> None:
    assert "django.db.models.signals.pre_migrate" in {
        *registry_stats()["idle"],
        *(s["name"] for s in registry_stats()["signals"]),
    }


def test_registry_marks_a_collected_weak_receiver_as_dead() -> None:
    def short_lived(sender: Any, **kwargs: Any) -> None:
        return None

    views.page_viewed.connect(short_lived, dispatch_uid="registry-dead")
    del short_lived
    gc.collect()
    try:
        [signal] = [
            s for s in registry_stats()["signals"] if s["name"] == "tests.views.page_viewed"
        ]
        assert [r["dead"] for r in signal["receivers"]] == [True]
    finally:
        views.page_viewed.disconnect(dispatch_uid="registry-dead")


def test_registry_listing_is_rebuilt_when_a_project_receiver_connects(connect: Any) -> None:
    before = registry_stats()["signals"]
    connect(views.page_viewed, noop, dispatch_uid="registry-rebuilt", weak=False)
    after = registry_stats()["signals"]
    assert after is not before
    [signal] = [s for s in after if s["name"] == "tests.views.page_viewed"]
    assert any(r["dispatch_uid"] == "'registry-rebuilt'" for r in signal["receivers"])


def test_registry_is_stored_as_text_made_again_only_when_it_changes(connect: Any) -> None:
    with record_signals() as recording:
        pass
    first, second = stored_stats(recording)["registry"], stored_stats(recording)["registry"]
    assert first is second  # encoded once, not per request
    assert json.loads(first) == registry_stats()
    connect(views.page_viewed, noop, dispatch_uid="registry-text", weak=False)
    changed = stored_stats(recording)["registry"]
    assert ("'registry-text'" in changed, "'registry-text'" in first) == (True, False)
    assert expand(stored_stats(recording))["registry"] == registry_stats()


def test_registry_listing_is_reused_across_the_toolbars_own_connections(
    rf: RequestFactory,
) -> None:
    toolbar = DebugToolbar(rf.get("/"), lambda request: HttpResponse())
    templates = toolbar.get_panel_by_id("TemplatesPanel")
    listed = registry_stats()
    # What the toolbar's templates panel does around every request.
    templates.enable_instrumentation()
    templates.disable_instrumentation()
    again = registry_stats()
    assert again["signals"] is listed["signals"]
    assert again["hidden_receivers"] == listed["hidden_receivers"]


def test_registry_counts_the_toolbars_receivers_connected_now(rf: RequestFactory) -> None:
    toolbar = DebugToolbar(rf.get("/"), lambda request: HttpResponse())
    templates = toolbar.get_panel_by_id("TemplatesPanel")
    hidden = registry_stats()["hidden_receivers"]
    templates.enable_instrumentation()
    try:
        assert registry_stats()["hidden_receivers"] == hidden + 1
    finally:
        templates.disable_instrumentation()
    assert registry_stats()["hidden_receivers"] == hidden


def test_registry_says_when_blinker_is_absent(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "blinker", None)
    assert "blinker is not installed" in render(panel_stats(Recording(), registry_listing=True))


def test_registry_is_left_out_when_the_setting_says_so(settings: Any) -> None:
    settings.SIGNAL_PANEL = {"SHOW_REGISTRY": False}
    with record_signals() as recording:
        pass
    assert panel_stats(recording)["registry"] is None


# -- the panel object ----------------------------------------------------------------------------


@pytest.fixture
def panel(settings: Any, rf: RequestFactory) -> SignalPanel:
    settings.DEBUG_TOOLBAR_PANELS = ["signal_panel.panels.SignalPanel"]
    toolbar = DebugToolbar(rf.get("/"), lambda request: HttpResponse())
    result: SignalPanel = toolbar.get_panel_by_id("SignalPanel")
    return result


def test_panel_records_between_enable_and_disable(panel: SignalPanel, rf: RequestFactory) -> None:
    panel.enable_instrumentation()
    views.page_viewed.send(sender=None)
    panel.disable_instrumentation()
    views.page_viewed.send(sender=None)
    panel.generate_stats(rf.get("/"), HttpResponse())
    assert panel.get_stats()["send_count"] == 1


def test_panel_that_never_recorded_has_empty_stats(panel: SignalPanel, rf: RequestFactory) -> None:
    panel.generate_stats(rf.get("/"), HttpResponse())
    assert (panel.get_stats()["send_count"], panel.nav_subtitle) == (
        0,
        "0 sends · 0 calls · 0.00 ms",
    )


def test_nav_subtitle_uses_singular_forms(
    panel: SignalPanel, rf: RequestFactory, connect: Any
) -> None:
    connect(views.page_viewed, failing)
    panel.enable_instrumentation()
    views.page_viewed.send_robust(sender=None)
    panel.disable_instrumentation()
    panel.generate_stats(rf.get("/"), HttpResponse())
    assert panel.nav_subtitle.startswith("1 send · 1 call · ")
    assert panel.nav_subtitle.endswith(" ms · 1 problem")


def test_panel_id_differs_from_the_builtin_signals_panel() -> None:
    from debug_toolbar.panels.signals import SignalsPanel

    assert SignalPanel.panel_id != SignalsPanel.panel_id


def test_panel_is_async_capable() -> None:
    assert SignalPanel.is_async is True


# -- settings checks -----------------------------------------------------------------------------


def test_system_check_reports_an_unknown_key(settings: Any) -> None:
    settings.SIGNAL_PANEL = {"SLOW_RECIEVER_MS": 10}
    errors = [e for e in checks.run_checks() if e.id == "signal_panel.E001"]
    assert ["unknown key 'SLOW_RECIEVER_MS'" in error.msg for error in errors] == [True]


def test_system_check_reports_a_value_of_the_wrong_type(settings: Any) -> None:
    settings.SIGNAL_PANEL = {"MAX_CALLS": "many"}
    errors = [e for e in checks.run_checks() if e.id == "signal_panel.E001"]
    assert [error.msg.split(" (")[0] for error in errors] == [
        "SIGNAL_PANEL['MAX_CALLS'] must be int, not str"
    ]


def test_panel_check_reports_a_missing_app(monkeypatch: pytest.MonkeyPatch) -> None:
    from django.apps import apps

    monkeypatch.setattr(apps, "is_installed", lambda name: name != "signal_panel")
    assert [e.id for e in SignalPanel.run_checks()] == ["signal_panel.E002"]


def test_panel_check_is_quiet_when_the_app_is_installed() -> None:
    assert SignalPanel.run_checks() == []


def test_sends_without_receivers_are_hidden_until_asked_for(connect: Any) -> None:
    connect(post_save, noop, sender=Tag)
    with record_signals() as recording:
        Tag.objects.create(name="shown")
    data = panel_stats(recording)
    sends = [row for row in data["timeline"] if row["type"] in ("send", "run")]
    assert [row["signal"] for row in sends if "spQuiet" in row["css"]] == [
        "pre_init",
        "post_init",
        "pre_save",
    ]
    assert [row["signal"] for row in sends if "spQuiet" not in row["css"]] == ["post_save"]
    html = render(data)
    assert 'class="spShowQuiet"' in html
    assert "Show the 3 sends that reached no receiver" in html


# -- a send's line, library receivers folded by package, on_commit outcomes, Why not run? ---------


def on_author_saved(sender: Any, **kwargs: Any) -> None:
    pass


def on_book_saved(sender: Any, **kwargs: Any) -> None:
    pass


def test_a_sends_line_holds_short_arguments_and_unfolds_the_rest(connect: Any) -> None:
    connect(post_save, on_author_saved, sender=Author)
    with record_signals() as recording:
        Author.objects.create(name="A" * 100)
    data = panel_stats(recording)
    [send] = [row for row in rows(data, "send") if row["signal"] == "post_save"]
    assert len(send["args_short"]) == stats.SHORT_ARGUMENTS
    assert send["args_short"].endswith("…")
    assert send["kwargs"].startswith(send["args_short"][:-1])
    html = render(data)
    assert '<details class="spMore"><summary><span class="spArgs">' in html
    assert send["callsite"] in html


@pytest.fixture
def library(site_library: Callable[[str, str], Any]) -> Any:
    """A library installed in site-packages with two receivers."""
    return site_library(
        "fakelib.receivers",
        "def index(sender, **kwargs):\n    pass\n\n\ndef audit(sender, **kwargs):\n    pass\n",
    )


def test_a_librarys_calls_under_a_send_fold_into_one_row(connect: Any, library: Any) -> None:
    connect(post_save, library.index, sender=Author)
    connect(post_save, library.audit, sender=Author)
    connect(post_save, on_author_saved, sender=Author)
    with record_signals() as recording:
        Author.objects.create(name="Ann")
    data = panel_stats(recording)
    [package] = rows(data, "package")
    assert (package["package"], package["count"], package["names"]) == (
        "fakelib",
        2,
        "index, audit",
    )
    calls = [row for row in rows(data, "call") if row["receiver"].startswith("fakelib.")]
    # The library's calls are hidden under the package row; the project's call is not folded.
    assert all(f"djToggleDetails_{package['id']}" in row["css"] for row in calls)
    assert all("djUnselected" in row["css"] for row in calls)
    [own] = [
        row
        for row in rows(data, "call")
        if row["receiver"] == "tests.test_panel_stats.on_author_saved"
    ]
    assert "djToggleDetails_p" not in own["css"]
    assert 'class="spPackageName">fakelib</span>' in render(data)


def test_folding_library_receivers_can_be_turned_off(
    connect: Any, library: Any, settings: Any
) -> None:
    settings.SIGNAL_PANEL = {"FOLD_LIBRARY_RECEIVERS": False, "SLOW_RECEIVER_MS": 10_000}
    connect(post_save, library.index, sender=Author)
    connect(post_save, library.audit, sender=Author)
    with record_signals() as recording:
        Author.objects.create(name="Ann")
    data = panel_stats(recording)
    assert rows(data, "package") == []
    assert len([r for r in rows(data, "call") if r["receiver"].startswith("fakelib.")]) == 2


def test_a_library_call_a_problem_is_about_is_not_folded(connect: Any, library: Any) -> None:
    connect(post_save, library.index, sender=Author)
    connect(post_save, library.audit, sender=Author)
    connect(post_save, library.audit, sender=Author, dispatch_uid="again")  # a duplicate
    with record_signals() as recording:
        Author.objects.create(name="Ann")
    data = panel_stats(recording)
    assert rows(data, "package") == []
    assert any(p["kind"] == "duplicate_receiver" for p in data["problems"])


def test_what_became_of_on_commit_callbacks_is_shown_under_the_call(connect: Any) -> None:
    from django.db import transaction

    def queue(sender: Any, **kwargs: Any) -> None:
        transaction.on_commit(on_author_saved)

    connect(post_save, queue, sender=Author, weak=False)
    with record_signals() as recording:
        # Inside the test's transaction: queued, then discarded by the savepoint's rollback.
        try:
            with transaction.atomic():
                Author.objects.create(name="Ann")
                raise KeyError("undo")
        except KeyError:
            pass
    data = panel_stats(recording)
    [call] = [row for row in rows(data, "call") if row["callbacks"]]
    assert call["callbacks"] == [
        {
            "name": "on_author_saved",
            "full_name": "tests.test_panel_stats.on_author_saved",
            "outcome": "discarded",
            "immediate": False,
            "time": "",
            "error": "",
        }
    ]
    assert "on_commit on_author_saved: discarded by a rollback" in render(data)


def test_why_not_run_lists_the_likely_misses_and_hides_the_others(connect: Any) -> None:
    from tests.testapp.models import FeaturedBook

    connect(post_save, on_author_saved, sender=Book)  # not run for the proxy: likely
    connect(post_save, on_book_saved, sender=FeaturedBook)  # not run for Book: maybe
    with record_signals() as recording:
        FeaturedBook.objects.create(title="Dune")
        Book.objects.create(title="Plain")
    data = panel_stats(recording)
    assert [
        (m["receiver"], m["listed"]) for m in data["missed"] if m["reason"] != "never_connected"
    ] == [
        ("tests.test_panel_stats.on_author_saved", True),
        ("tests.test_panel_stats.on_book_saved", False),
    ]
    assert data["missed_listed"] == 1
    html = render(data)
    assert 'class="spMiss spReason-related_sender djDebugRowWarning"' in html
    assert 'class="spMiss spReason-related_sender spMaybe"' in html
