"""The save cascade's receivers: what ``Order.objects.create()`` runs.

- ``pre_save``: fill in the order's reference;
- ``post_save``: check the item still exists (one query), then send ``order_placed``;
- ``order_placed``: count the order (a receiver of the nested send).
"""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_save, pre_save

from benchmarks.benchapp.models import Item, Order
from benchmarks.benchapp.signals import order_placed

#: Orders counted by ``count_order``.
placed: list[int] = [0]


def fill_reference(sender: type[Order], instance: Order, **kwargs: Any) -> None:
    if not instance.reference:
        instance.reference = f"item-{instance.item_id}-x{instance.quantity}"


def confirm_order(sender: type[Order], instance: Order, created: bool, **kwargs: Any) -> None:
    if created and Item.objects.filter(pk=instance.item_id).exists():
        order_placed.send(sender=Order, order=instance, quantity=instance.quantity)


def count_order(sender: type[Order], order: Order, **kwargs: Any) -> None:
    placed[0] += 1


def connect() -> None:
    pre_save.connect(fill_reference, sender=Order, dispatch_uid="benchapp-fill-reference")
    post_save.connect(confirm_order, sender=Order, dispatch_uid="benchapp-confirm-order")
    order_placed.connect(count_order, dispatch_uid="benchapp-count-order")
