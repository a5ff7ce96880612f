from __future__ import annotations

from django.contrib import admin

from demo_site.pitfalls.models import Article, Page, Subscriber

admin.site.register([Article, Page, Subscriber])
