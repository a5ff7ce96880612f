"""Create a profile for every new user, and save it whenever the user is saved."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.db.models.signals import post_save
from django.dispatch import receiver

from demo_site.accounts.models import Profile


@receiver(post_save, sender=User)
def create_profile(sender: type[User], instance: User, created: bool, **kwargs: Any) -> None:
    if created:
        Profile.objects.create(user=instance)


@receiver(post_save, sender=User)
def save_profile(sender: type[User], instance: User, **kwargs: Any) -> None:
    # Runs on every save of every user, even when nothing about the profile changed.
    instance.profile.save()
