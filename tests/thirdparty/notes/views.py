from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from tests.thirdparty.notes.models import Note

PAGE = "<!DOCTYPE html><html><head><title>Note</title></head><body><p>{}</p></body></html>"


def public_note(request: HttpRequest) -> HttpResponse:
    """A public page that saves a model: a note, with history and two tags."""
    title = request.GET.get("title", "A public note")
    note = Note.objects.create(title=title, body="Written from a public page.")
    note.tags.add("public", "visitor")
    return HttpResponse(PAGE.format(note.pk))
