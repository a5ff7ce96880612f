"""The newsletter's welcome e-mail.

This module is imported twice (see ``legacy.py``): once as ``demo_site.pitfalls.newsletter`` and
once as ``newsletter``. Each import runs the file, so each defines its own
``queue_welcome_email`` and connects it: two receivers, two welcome e-mails per sign-up. Imports
in this file are absolute so that both copies work.
"""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_save
from django.dispatch import receiver

from demo_site.pitfalls.models import Notification, Subscriber


@receiver(post_save, sender=Subscriber)
def queue_welcome_email(
    sender: type[Subscriber], instance: Subscriber, created: bool, **kwargs: Any
) -> None:
    if created:
        Notification.objects.create(recipient=instance.email, subject="Welcome to the newsletter")
