from __future__ import annotations

from django.contrib import admin

from demo_site.family.models import FamilyMember

admin.site.register(FamilyMember)
