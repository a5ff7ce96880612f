"""The panel on a project that uses the admin, django-simple-history and django-taggit, driven
through the real debug toolbar over WSGI and ASGI. Runs with its own settings:

    python -m pytest tests/thirdparty --ds=tests.thirdparty.settings
"""
