"""Receivers nobody imports: ForgetfulConfig.ready() should, and does not."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_save
from django.dispatch import receiver


@receiver(post_save, sender="testapp.Author")
def remember_author(sender: Any, **kwargs: Any) -> None:
    raise AssertionError("never imported, so never connected")
