"""Settings of the example project: SQLite, DEBUG on, the debug toolbar for local browsers."""

from __future__ import annotations

from pathlib import Path

import django
from debug_toolbar.settings import PANELS_DEFAULTS

BASE_DIR = Path(__file__).resolve().parent

SECRET_KEY = "demo-only-never-use-this-key-in-production"
DEBUG = True
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]", "testserver"]
# The toolbar shows for requests from these addresses (and only with DEBUG=True).
INTERNAL_IPS = ["127.0.0.1", "::1"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "debug_toolbar",
    # Listed before the apps whose connect() calls it should see (where each receiver was
    # connected, and which local functions are connected weakly).
    "signal_panel",
    "demo_site",
    "demo_site.accounts",
    "demo_site.family",
    "demo_site.shop",
    "demo_site.pitfalls",
]

MIDDLEWARE = [
    "debug_toolbar.middleware.DebugToolbarMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]

ROOT_URLCONF = "demo_site.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

DATABASES = {
    "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": BASE_DIR / "db.sqlite3"},
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# E-mails sent by receivers are printed in the terminal that runs the server. Django 6.1 replaced
# EMAIL_BACKEND with MAILERS (and warns about the old setting).
if django.VERSION >= (6, 1):
    MAILERS = {"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}}
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = "shop@example.com"

USE_TZ = True
TIME_ZONE = "UTC"
STATIC_URL = "/static/"

# The toolbar's own panels, and this package's.
DEBUG_TOOLBAR_PANELS = [*PANELS_DEFAULTS, "signal_panel.panels.SignalPanel"]

SIGNAL_PANEL = {
    # SQLite receivers on a busy laptop can take a few milliseconds; the demo's slow receiver
    # takes fifty, so report what stands out rather than every receiver that saves a row.
    "SLOW_RECEIVER_MS": 20,
}
