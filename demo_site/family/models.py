from __future__ import annotations

from django.db import models


class FamilyMember(models.Model):
    name = models.CharField(max_length=80)
    # One side is set by the program; a receiver sets the other (see receivers.py).
    spouse = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    parents = models.ManyToManyField("self", symmetrical=False, related_name="children", blank=True)

    def __str__(self) -> str:
        return self.name
