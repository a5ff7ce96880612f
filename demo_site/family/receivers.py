"""Keep spouses two-way and give a child both parents of a couple.

Each receiver makes a change that sends its own signal again, so each runs once more, nested; the
check at its top (the other side is already right) is what stops it there.
"""

from __future__ import annotations

from typing import Any

from django.db.models.signals import m2m_changed, post_save
from django.dispatch import receiver

from demo_site.family.models import FamilyMember


@receiver(post_save, sender=FamilyMember)
def keep_spouses_in_sync(sender: type[FamilyMember], instance: FamilyMember, **kwargs: Any) -> None:
    spouse = instance.spouse
    if spouse is None or spouse.spouse_id == instance.pk:
        return  # The guard: the other side already points back.
    spouse.spouse = instance
    spouse.save(update_fields=["spouse"])  # Sends post_save again: this receiver re-enters.


@receiver(m2m_changed, sender=FamilyMember.parents.through)
def add_spouse_as_parent(
    sender: type[Any],
    instance: FamilyMember,
    action: str,
    reverse: bool,
    pk_set: set[int] | None,
    **kwargs: Any,
) -> None:
    if action != "post_add" or reverse or not pk_set:
        return
    spouses = set(
        FamilyMember.objects.filter(pk__in=pk_set, spouse__isnull=False).values_list(
            "spouse_id", flat=True
        )
    )
    missing = spouses - set(instance.parents.values_list("pk", flat=True))
    if missing:  # The guard: once both parents are there, the nested call finds nothing to add.
        instance.parents.add(*missing)
