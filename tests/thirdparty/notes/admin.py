from __future__ import annotations

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from tests.thirdparty.notes.models import Note


@admin.register(Note)
class NoteAdmin(SimpleHistoryAdmin):
    list_display = ["title"]
