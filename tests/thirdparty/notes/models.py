from __future__ import annotations

from django.db import models
from simple_history.models import HistoricalRecords
from taggit.managers import TaggableManager


class Note(models.Model):
    """Saved with history (simple-history's post_save/post_delete receivers) and tagged (taggit's
    manager sends m2m_changed for its through model)."""

    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    tags = TaggableManager(blank=True)
    history = HistoricalRecords()

    def __str__(self) -> str:
        return self.title
