"""Settings of a small project with the admin, django-simple-history and django-taggit, on SQLite,
with every default panel of the debug toolbar and the signal panel."""

from __future__ import annotations

from debug_toolbar.settings import PANELS_DEFAULTS

SECRET_KEY = "thirdparty-tests-only"
DEBUG = True
ALLOWED_HOSTS = ["*"]
INTERNAL_IPS = ["127.0.0.1"]
USE_TZ = True
TIME_ZONE = "UTC"
ROOT_URLCONF = "tests.thirdparty.urls"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "debug_toolbar",
    "signal_panel",
    "simple_history",
    "taggit",
    "tests.thirdparty.notes",
]
MIDDLEWARE = [
    "debug_toolbar.middleware.DebugToolbarMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Gives simple-history the request, so each historical row records who made the change.
    "simple_history.middleware.HistoryRequestMiddleware",
]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
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
STATIC_URL = "/static/"
# Logging in checks the password: a fast hasher keeps the tests quick.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

DEBUG_TOOLBAR_PANELS = [*PANELS_DEFAULTS, "signal_panel.panels.SignalPanel"]
DEBUG_TOOLBAR_CONFIG = {
    "SHOW_TOOLBAR_CALLBACK": "tests.thirdparty.urls.show_toolbar",
    "IS_RUNNING_TESTS": False,
    "RENDER_PANELS": False,
    # One flow makes a dozen requests; keep every one of them in the store.
    "RESULTS_CACHE_SIZE": 200,
}
