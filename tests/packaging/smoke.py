"""Smoke test of an installed wheel: import it, record a send, render the panel through the toolbar.

Run with the Python of a virtualenv that has only the wheel (and what it requires) installed, from a
directory where the source tree cannot be imported: ``python smoke.py``. It is a whole Django
project in one file (settings, a receiver, a view, the URLs) and exits non-zero on failure.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import django
from django.conf import settings

settings.configure(
    DEBUG=True,
    SECRET_KEY="smoke-test-only",
    ALLOWED_HOSTS=["testserver"],
    INTERNAL_IPS=["127.0.0.1"],
    ROOT_URLCONF=__name__,
    INSTALLED_APPS=[
        "django.contrib.auth",
        "django.contrib.contenttypes",
        "django.contrib.staticfiles",
        "debug_toolbar",
        "signal_panel",
    ],
    MIDDLEWARE=["debug_toolbar.middleware.DebugToolbarMiddleware"],
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
    TEMPLATES=[{"BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True}],
    STATIC_URL="/static/",
    DEBUG_TOOLBAR_PANELS=["signal_panel.panels.SignalPanel"],
    DEBUG_TOOLBAR_CONFIG={
        "SHOW_TOOLBAR_CALLBACK": f"{__name__}.show_toolbar",
        "IS_RUNNING_TESTS": False,
    },
)
django.setup()

from django.dispatch import Signal  # noqa: E402
from django.http import HttpRequest, HttpResponse  # noqa: E402
from django.test import Client  # noqa: E402
from django.urls import include, path  # noqa: E402

import signal_panel  # noqa: E402
from signal_panel import record_signals  # noqa: E402

order_paid = Signal()


def email_receipt(sender: object, **kwargs: object) -> None:
    pass


order_paid.connect(email_receipt)


def show_toolbar(request: HttpRequest) -> bool:
    return True


def pay(request: HttpRequest) -> HttpResponse:
    order_paid.send(sender="smoke", order=7)
    return HttpResponse("<html><body><p>paid</p></body></html>")


urlpatterns = [
    path("pay/", pay),
    path("__debug__/", include("debug_toolbar.urls")),
]


def main() -> None:
    where = Path(signal_panel.__file__).resolve()
    assert "site-packages" in where.parts, f"signal_panel imported from {where}, not the wheel"
    print(f"signal_panel {signal_panel.__version__} from {where.parent}")

    with record_signals() as recording:
        order_paid.send(sender="smoke", order=7)
    [send] = recording.sends
    assert send.signal_name == "__main__.order_paid", send.signal_name
    assert [call.receiver_name for call in send.calls] == ["__main__.email_receipt"]
    print("recorded:", send.signal_name, [call.receiver_name for call in send.calls])

    client = Client()
    response = client.get("/pay/")
    assert response.status_code == 200, response.status_code
    assert "SignalPanel_receivers" in response.headers["Server-Timing"]
    # The toolbar's root element carries the id its panels are fetched by.
    found = re.search(r'data-request-id="(\w+)"', response.content.decode())
    assert found is not None, "the toolbar was not rendered into the page"
    request_id = found.group(1)
    panel = client.get(
        "/__debug__/render_panel/", {"request_id": request_id, "panel_id": "SignalPanel"}
    )
    assert panel.status_code == 200, panel.status_code
    content = panel.json()["content"]
    for expected in ("order_paid", "__main__.email_receipt"):
        assert expected in content, f"{expected!r} is not in the rendered panel"
    print("rendered the panel through the toolbar: the send and its receiver are in it")


if __name__ == "__main__":
    main()
    print("smoke test passed")
    sys.exit(0)
