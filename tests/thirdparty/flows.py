"""The project's ordinary flows, written once and run by a WSGI or an ASGI test client.

A flow is a generator: it yields a :class:`Request` and is sent back the :class:`Visit` it made,
so the same steps (log in to the admin, add, change, view the history of and delete a note, save
one from a public page) run through ``django.test.Client`` and ``django.test.AsyncClient`` alike.
Each visit keeps what the debug toolbar stored for its request: the signal panel's stats, and its
HTML as the toolbar's ``render_panel`` view serves it.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Generator, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from debug_toolbar.toolbar import DebugToolbar
from django.http import HttpResponse
from django.test import AsyncClient, Client

from signal_panel.stats import expand

USERNAME = "admin"
PASSWORD = "Sw0rdfish-thirdparty-42"

PANEL_ID = "SignalPanel"
#: Where the observer's own receivers live: the toolbar's panels and this package.
OBSERVER_PACKAGES = ("debug_toolbar", "signal_panel")

_CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
_OBJECT_ID = re.compile(r"/admin/notes/note/(\d+)/change/")


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    data: dict[str, str] = field(default_factory=dict)
    #: The status code the step expects (the flow stops on another).
    status: int = 200

    @property
    def label(self) -> str:
        return f"{self.method.upper()} {self.path}"


@dataclass
class Visit:
    """One request of a flow and what the toolbar stored for it."""

    request: Request
    response: HttpResponse
    request_id: str
    stats: dict[str, Any]
    html: str = ""
    #: The client's cookies right after the response (``sessionid``, ``csrftoken``).
    cookies: dict[str, str] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return self.request.label

    @property
    def text(self) -> str:
        return self.response.content.decode()

    @property
    def form_token(self) -> str:
        """The CSRF token of the page's form (empty if the page has no form)."""
        found = _CSRF_INPUT.search(self.text)
        return found.group(1) if found else ""


Flow = Generator[Request, Visit, None]


def admin_flow() -> Flow:
    """Log in to the admin, view its index, add and change a tagged note, view its history,
    delete it."""
    login = yield Request("get", "/admin/login/?next=/admin/")
    yield Request(
        "post",
        "/admin/login/?next=/admin/",
        {
            "csrfmiddlewaretoken": login.form_token,
            "username": USERNAME,
            "password": PASSWORD,
            "next": "/admin/",
        },
        status=302,
    )
    yield Request("get", "/admin/")
    add = yield Request("get", "/admin/notes/note/add/")
    added = yield Request(
        "post",
        "/admin/notes/note/add/",
        {
            "csrfmiddlewaretoken": add.form_token,
            "title": "Shopping list",
            "body": "Milk, eggs.",
            "tags": "groceries, weekly",
            # "Save and continue editing" redirects to the new note's change page.
            "_continue": "Save and continue editing",
        },
        status=302,
    )
    yield Request("get", "/admin/notes/note/")
    pk = note_pk(added)
    change = yield Request("get", f"/admin/notes/note/{pk}/change/")
    yield Request(
        "post",
        f"/admin/notes/note/{pk}/change/",
        {
            "csrfmiddlewaretoken": change.form_token,
            "title": "Shopping list (Saturday)",
            "body": "Milk, eggs, bread.",
            "tags": "groceries, saturday",
            "_save": "Save",
        },
        status=302,
    )
    yield Request("get", f"/admin/notes/note/{pk}/history/")
    delete = yield Request("get", f"/admin/notes/note/{pk}/delete/")
    yield Request(
        "post",
        f"/admin/notes/note/{pk}/delete/",
        {"csrfmiddlewaretoken": delete.form_token, "post": "yes"},
        status=302,
    )


def flow_of(*requests: Request) -> Flow:
    """A flow of fixed requests."""
    # Not `yield from requests`: it would hand send() on to the tuple's iterator, which has none.
    for request in requests:  # noqa: UP028
        yield request


def public_flow(title: str = "A public note") -> Flow:
    """A page anybody may open that saves a tagged note."""
    yield Request("get", f"/note/?title={title}")


def login_flow() -> Flow:
    """Only the admin login (what the concurrent requests need first)."""
    login = yield Request("get", "/admin/login/?next=/admin/")
    yield Request(
        "post",
        "/admin/login/?next=/admin/",
        {"csrfmiddlewaretoken": login.form_token, "username": USERNAME, "password": PASSWORD},
        status=302,
    )


def note_pk(visit: Visit) -> str:
    """The new note's pk, from the admin's redirect to its change page."""
    found = _OBJECT_ID.search(visit.response.headers.get("Location", ""))
    assert found, f"{visit.label} did not redirect to the new note's change page"
    return found.group(1)


# -- running a flow ------------------------------------------------------------------------------


def stored_stats(request_id: str) -> dict[str, Any]:
    """The signal panel's stats as the toolbar rebuilds them from its store."""
    toolbar = DebugToolbar.fetch(request_id, PANEL_ID)
    assert toolbar is not None, f"the toolbar stored nothing for request {request_id}"
    stats: dict[str, Any] = toolbar.get_panel_by_id(PANEL_ID).get_stats()  # type: ignore[no-untyped-call]
    assert stats, f"the signal panel stored no stats for request {request_id}"
    return expand(stats)


def _request_id(request: Request, response: HttpResponse) -> str:
    assert response.status_code == request.status, (
        f"{request.label} answered {response.status_code}, expected {request.status}"
    )
    # The history panel puts the toolbar's id for the request in this header, on every response.
    return response.headers.get("djdt-request-id", "")


def _cookies(client: Client | AsyncClient) -> dict[str, str]:
    return {name: morsel.value for name, morsel in client.cookies.items()}


def _render_url(request_id: str) -> tuple[str, dict[str, str]]:
    return "/__debug__/render_panel/", {"request_id": request_id, "panel_id": PANEL_ID}


def _visit(
    request: Request, response: HttpResponse, client: Client | AsyncClient, toolbar: bool
) -> Visit:
    request_id = _request_id(request, response)
    stats: dict[str, Any] = {}
    if toolbar:
        assert request_id, f"{request.label}: the toolbar did not handle the request"
        stats = stored_stats(request_id)
    return Visit(request, response, request_id, stats, cookies=_cookies(client))


def send(client: Client, request: Request, *, toolbar: bool = True) -> Visit:
    """Make ``request`` with a WSGI test client; with ``toolbar``, read what the toolbar stored."""
    call: Callable[..., Any] = getattr(client, request.method)
    response = call(request.path, request.data) if request.data else call(request.path)
    visit = _visit(request, response, client, toolbar)
    if toolbar:
        visit.html = client.get(*_render_url(visit.request_id)).json()["content"]
    return visit


async def asend(client: AsyncClient, request: Request, *, toolbar: bool = True) -> Visit:
    """Make ``request`` with an ASGI test client; with ``toolbar``, read what the toolbar
    stored."""
    call: Callable[..., Any] = getattr(client, request.method)
    if request.data:
        response = await call(request.path, request.data)
    else:
        response = await call(request.path)
    visit = _visit(request, response, client, toolbar)
    if toolbar:
        rendered = await client.get(*_render_url(visit.request_id))
        visit.html = rendered.json()["content"]
    return visit


def run(client: Client, flow: Flow, *, toolbar: bool = True) -> list[Visit]:
    """Run ``flow`` with a WSGI test client; one :class:`Visit` per request."""
    visits: list[Visit] = []
    try:
        request = next(flow)
        while True:
            visits.append(send(client, request, toolbar=toolbar))
            request = flow.send(visits[-1])
    except StopIteration:
        pass
    return visits


async def arun(client: AsyncClient, flow: Flow, *, toolbar: bool = True) -> list[Visit]:
    """Run ``flow`` with an ASGI test client; one :class:`Visit` per request."""
    visits: list[Visit] = []
    try:
        request = next(flow)
        while True:
            visits.append(await asend(client, request, toolbar=toolbar))
            request = flow.send(visits[-1])
    except StopIteration:
        pass
    return visits


async def agather(
    requests: Iterable[tuple[AsyncClient, Request]], *, toolbar: bool = True
) -> list[Visit]:
    """Make all ``requests`` at once (``asyncio.gather``), each with its client."""
    visits = await asyncio.gather(
        *(asend(client, request, toolbar=toolbar) for client, request in requests)
    )
    return list(visits)


# -- reading what the panel showed ---------------------------------------------------------------


def problems_by_visit(
    visits: Iterable[Visit], *, ignore: Iterable[str] = (), only: Iterable[str] | None = None
) -> dict[str, list[str]]:
    """``{"POST /admin/login/": ["kind: message", ...]}`` for the visits with problems (of the
    kinds in ``only`` if given, leaving out those in ``ignore``)."""
    skipped = set(ignore)
    kept = None if only is None else set(only)
    found: dict[str, list[str]] = {}
    for visit in visits:
        problems = [
            f"{p['kind']}: {p['message']}"
            for p in visit.stats["problems"]
            if p["kind"] not in skipped and (kept is None or p["kind"] in kept)
        ]
        if problems:
            found.setdefault(visit.label, []).extend(problems)
    return found


def _is_observer(text: str) -> bool:
    return any(
        text == package or text.startswith((f"{package}.", f"{package}/", f"<{package}."))
        for package in OBSERVER_PACKAGES
    )


def observer_calls(visits: Iterable[Visit]) -> dict[str, list[str]]:
    """The receiver calls of the toolbar or this package that the panel shows (timeline and
    by-receiver table), per visit."""
    found: dict[str, list[str]] = {}
    for visit in visits:
        rows = [
            f"timeline {row['type']}: {row['receiver']} ({row.get('location', '')})"
            for row in visit.stats["timeline"]
            if _is_observer(row.get("receiver", ""))
        ]
        rows.extend(
            f"by receiver: {row['receiver']} ({row['location']})"
            for row in visit.stats["receivers"]
            if _is_observer(row["receiver"])
        )
        if rows:
            found[visit.label] = rows
    return found


def observer_sends(visits: Iterable[Visit]) -> dict[str, list[str]]:
    """The sends of the toolbar's or this package's own signals in the panel's timeline (shown,
    or hidden behind its "sends that reached no receiver" switch), per visit."""
    found: dict[str, list[str]] = {}
    for visit in visits:
        rows = [
            f"{row['type']} of {row['signal_name']} (x{row['count']}) from {row['sender']}"
            for row in visit.stats["timeline"]
            if row["type"] in ("send", "run") and _is_observer(row["signal_name"])
        ]
        if rows:
            found[visit.label] = rows
    return found


#: A secret counts as shown when this many characters of it in a row are (a summary cut short
#: still gives away a password hash's salt and the start of its digest).
SECRET_PIECE = 16


def _pieces(value: str) -> Iterator[str]:
    size = min(len(value), SECRET_PIECE)
    for start in range(len(value) - size + 1):
        yield value[start : start + size]


def secrets_in(text: str, secrets: dict[str, set[str]]) -> list[str]:
    """Which of ``secrets`` (``{"session key": {...}}``) ``text`` contains, whole or as a piece
    of :data:`SECRET_PIECE` characters."""
    shown = []
    for what, values in secrets.items():
        for value in sorted(values):
            piece = next((p for p in _pieces(value) if p in text), None)
            if piece is not None:
                whole = "whole" if value in text else "in part"
                shown.append(f"{what}, {whole}: {piece!r} of {value[:8]}…")
    return shown


def secrets_shown(visits: Iterable[Visit], secrets: dict[str, set[str]]) -> dict[str, list[str]]:
    """Which of ``secrets`` each visit's panel HTML contains (see :func:`secrets_in`)."""
    found: dict[str, list[str]] = {}
    for visit in visits:
        shown = secrets_in(visit.html, secrets)
        if shown:
            found[visit.label] = shown
    return found


def client_secrets(visits: Iterable[Visit]) -> dict[str, set[str]]:
    """The session keys, CSRF cookies and CSRF form tokens the client held during the visits."""
    secrets: dict[str, set[str]] = {
        "plain password": {PASSWORD},
        "session key": set(),
        "CSRF cookie": set(),
        "CSRF form token": set(),
    }
    for visit in visits:
        secrets["session key"].add(visit.cookies.get("sessionid", ""))
        secrets["CSRF cookie"].add(visit.cookies.get("csrftoken", ""))
        secrets["CSRF form token"].add(visit.form_token)
    for values in secrets.values():
        values.discard("")
    return secrets


def describe(found: dict[str, list[str]]) -> str:
    """``found`` (what one of the readers above returned) as lines for a failure message."""
    lines = []
    for label, items in found.items():
        lines.append(label)
        lines.extend(f"    {item}" for item in items)
    return "\n".join(lines)


_SAVED_NOTE = re.compile(r"instance=<notes\.Note pk=(\d+)>")
_PAGE_NOTE = re.compile(r"<p>(\d+)</p>")


def page_note(visit: Visit) -> str:
    """The pk of the note the public page saved (the page shows it)."""
    found = _PAGE_NOTE.search(visit.text)
    assert found, f"{visit.label} shows no note"
    return found.group(1)


def notes_saved(visit: Visit) -> list[str]:
    """The pks of the notes whose post_save the visit's panel shows."""
    return [
        pk
        for row in visit.stats["timeline"]
        if row["type"] in ("send", "run") and row["signal"] == "post_save"
        for pk in _SAVED_NOTE.findall(row["kwargs"])
    ]


_ACTION = re.compile(r"action='(\w+)'")


def m2m_actions(visit: Visit) -> list[str]:
    """The ``action`` of each m2m_changed send the visit's timeline shows, in order (a folded run
    shows its first send's)."""
    return [
        action
        for row in visit.stats["timeline"]
        if row["type"] in ("send", "run") and row["signal"] == "m2m_changed"
        for action in _ACTION.findall(row["kwargs"])
    ]


def concurrent_requests(
    admin: AsyncClient, add_page: Visit, visitors: list[AsyncClient]
) -> list[tuple[AsyncClient, Request]]:
    """What the concurrent test sends at once: the logged-in admin views its index and list and
    adds a note while each visitor opens the public page."""
    return [
        (admin, Request("get", "/admin/")),
        (admin, Request("get", "/admin/notes/note/")),
        (
            admin,
            Request(
                "post",
                "/admin/notes/note/add/",
                {
                    "csrfmiddlewaretoken": add_page.form_token,
                    "title": "Added while others visit",
                    "tags": "busy",
                    "_continue": "Save and continue editing",
                },
                status=302,
            ),
        ),
        *(
            (visitor, Request("get", f"/note/?title=Visitor+{number}"))
            for number, visitor in enumerate(visitors)
        ),
    ]
