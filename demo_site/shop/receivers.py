"""Every receiver of the shop, grouped by the scenario that shows it.

Imported once, by ``ShopConfig.ready()``.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import secrets
from decimal import Decimal
from typing import Any

from django.core.cache import cache
from django.core.mail import send_mail
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete, pre_save
from django.dispatch import receiver
from django.utils import timezone

from demo_site.shop.models import AuditEntry, Customer, Order, Product, Restock, Review
from demo_site.shop.signals import (
    invoice_requested,
    loyalty_points_awarded,
    order_placed,
    order_shipped,
    payment_captured,
    stock_low,
)

logger = logging.getLogger(__name__)

AUDITED_FIELDS = ("name", "price", "stock")
LOW_STOCK = 5
GOLD_TIER_POINTS = 500


def cache_key(product: Product) -> str:
    return f"product-page:{product.pk}"


# -- Audit log and side effects -----------------------------------------------------------------


@receiver(pre_save, sender=Product)
def remember_changes(sender: type[Product], instance: Product, **kwargs: Any) -> None:
    """Diff the values about to be saved against the row in the database."""
    changes: dict[str, list[str]] = {}
    if instance.pk is not None:
        old = Product.objects.filter(pk=instance.pk).values(*AUDITED_FIELDS).first()
        if old is not None:
            for name in AUDITED_FIELDS:
                before, after = old[name], getattr(instance, name)
                if str(before) != str(after):
                    changes[name] = [str(before), str(after)]
    instance._audit_changes = changes  # type: ignore[attr-defined]


@receiver(post_save, sender=Product)
def write_audit_entry(
    sender: type[Product], instance: Product, created: bool, **kwargs: Any
) -> None:
    changes = getattr(instance, "_audit_changes", {})
    if created or changes:
        AuditEntry.objects.create(
            model="shop.Product",
            object_id=instance.pk,
            action="created" if created else "changed",
            changes=changes,
        )


@receiver(post_save, sender=Product)
def email_price_change(
    sender: type[Product], instance: Product, created: bool, **kwargs: Any
) -> None:
    change = getattr(instance, "_audit_changes", {}).get("price")
    if change and not created:
        send_mail(
            f"Price of {instance.name} changed",
            f"{instance.name}: {change[0]} -> {change[1]}",
            None,
            ["pricing@example.com"],
        )


@receiver(post_save, sender=Product)
def clear_cached_page(sender: type[Product], instance: Product, **kwargs: Any) -> None:
    cache.delete_many([cache_key(instance), "catalog-page"])


@receiver(m2m_changed, sender=Product.tags.through)
def log_tag_change(
    sender: type[Any],
    instance: Product | Any,
    action: str,
    reverse: bool,
    pk_set: set[int] | None,
    **kwargs: Any,
) -> None:
    if reverse or action not in ("post_add", "post_remove"):
        return
    AuditEntry.objects.create(
        model="shop.Product",
        object_id=instance.pk,
        action="tagged" if action == "post_add" else "untagged",
        changes={"tags": sorted(pk_set or ())},
    )


@receiver(pre_delete, sender=Product)
def archive_product(sender: type[Product], instance: Product, **kwargs: Any) -> None:
    """Keep what is about to disappear: the row and its tags are still there before the delete."""
    AuditEntry.objects.create(
        model="shop.Product",
        object_id=instance.pk,
        action="archived",
        changes={
            "name": instance.name,
            "price": str(instance.price),
            "tags": list(instance.tags.values_list("name", flat=True)),
        },
    )


@receiver(post_delete, sender=Product)
def forget_product(sender: type[Product], instance: Product, **kwargs: Any) -> None:
    cache.delete_many([cache_key(instance), "catalog-page"])


# -- blinker: a Django receiver sends a blinker signal, a blinker receiver saves a model ----------


@receiver(post_save, sender=Product)
def watch_stock_level(sender: type[Product], instance: Product, **kwargs: Any) -> None:
    if instance.stock < LOW_STOCK:
        stock_low.send(instance, stock=instance.stock, threshold=LOW_STOCK)


@stock_low.connect
def reorder_from_supplier(sender: Product, **kwargs: Any) -> None:
    Restock.objects.create(product=sender, quantity=kwargs["threshold"] * 4)


@stock_low.connect
def alert_warehouse(sender: Product, **kwargs: Any) -> None:
    logger.info("Low stock: %s has %s left", sender.name, kwargs["stock"])


# -- Orders: numbering and the CRM sync (which bulk operations skip) ----------------------------


@receiver(pre_save, sender=Order)
def stamp_order_number(sender: type[Order], instance: Order, **kwargs: Any) -> None:
    if not instance.number:
        instance.number = f"ORD-{timezone.now():%Y%m%d}-{secrets.token_hex(3).upper()}"


@receiver(post_save, sender=Order)
def sync_order_to_crm(sender: type[Order], instance: Order, **kwargs: Any) -> None:
    # Stands in for a call to a CRM: remember what it was told.
    cache.set(f"crm-order:{instance.pk}", instance.status, 600)


# -- Custom signals, sent from a view and from a receiver ----------------------------------------


@receiver(order_placed)
def award_loyalty_points(sender: type[Order], order: Order, total: Decimal, **kwargs: Any) -> None:
    customer = order.customer
    points = int(total)
    customer.loyalty_points += points
    customer.save(update_fields=["loyalty_points"])
    loyalty_points_awarded.send(
        sender=Customer, customer=customer, points=points, reason=f"order {order.number}"
    )


@receiver(order_placed)
def email_order_confirmation(
    sender: type[Order], order: Order, total: Decimal, coupon: str | None, **kwargs: Any
) -> None:
    discount = f" (coupon {coupon})" if coupon else ""
    send_mail(
        f"Your order {order.number}",
        f"Thank you! Total: {total}{discount}.",
        None,
        [order.customer.email],
    )


@receiver(loyalty_points_awarded)
def upgrade_tier(sender: type[Customer], customer: Customer, **kwargs: Any) -> None:
    if customer.loyalty_points >= GOLD_TIER_POINTS and customer.tier != "gold":
        customer.tier = "gold"
        customer.save(update_fields=["tier"])


@receiver(loyalty_points_awarded)
def email_points_statement(
    sender: type[Customer], customer: Customer, points: int, reason: str, **kwargs: Any
) -> None:
    send_mail(
        "Loyalty points",
        f"{points} points for {reason}; you now have {customer.loyalty_points}.",
        None,
        [customer.email],
    )


# -- Async: asend() to one sync and two async receivers ------------------------------------------


@receiver(order_shipped)
def mark_order_shipped(sender: type[Order], order: Order, **kwargs: Any) -> None:
    # A sync receiver: asend() runs it in a worker thread, where the ORM may be used.
    order.status = "shipped"
    order.save(update_fields=["status"])


@receiver(order_shipped)
async def notify_carrier(sender: type[Order], carrier: str, **kwargs: Any) -> str:
    await asyncio.sleep(0.012)  # Stands in for an HTTP call to the carrier's API.
    return f"{carrier} booked"


@receiver(order_shipped)
async def publish_tracking_update(sender: type[Order], tracking_code: str, **kwargs: Any) -> str:
    await asyncio.sleep(0.006)  # Stands in for a push to the customer's tracking page.
    return f"tracking {tracking_code} published"


# -- Transactions: a receiver that defers its e-mail to the commit -------------------------------


@receiver(payment_captured)
def record_payment(sender: type[Order], order: Order, amount: Decimal, **kwargs: Any) -> None:
    AuditEntry.objects.create(
        model="shop.Order",
        object_id=order.pk,
        action="payment captured",
        changes={"amount": str(amount)},
    )


def _send_receipt(order_number: str, email: str) -> None:
    send_mail(f"Receipt for {order_number}", "Payment received.", None, [email])


@receiver(payment_captured)
def email_receipt_on_commit(sender: type[Order], order: Order, **kwargs: Any) -> None:
    # Sending now would e-mail a receipt for a payment that may still roll back.
    transaction.on_commit(functools.partial(_send_receipt, order.number, order.customer.email))


# -- N+1: the same invoice built with one query per line, and with one query ---------------------


@receiver(invoice_requested)
def build_invoice_naive(sender: type[Order], order: Order, **kwargs: Any) -> list[str]:
    # line.product is fetched line by line: one SELECT per line.
    return [f"{line.quantity} x {line.product.name}" for line in order.lines.all()]


@receiver(invoice_requested)
def build_invoice_prefetched(sender: type[Order], order: Order, **kwargs: Any) -> list[str]:
    lines = order.lines.select_related("product")
    return [f"{line.quantity} x {line.product.name}" for line in lines]


# -- Returning False from pre_save: a "cancel" that Django ignores -------------------------------


@receiver(pre_save, sender=Review)
def refuse_empty_review(sender: type[Review], instance: Review, **kwargs: Any) -> bool | None:
    # The bug: returning False does not cancel the save. Model.save() sends pre_save and ignores
    # what its receivers return, so the empty review is saved anyway. Fix: raise an exception
    # (ValidationError) here, or better, validate in the form or in Review.clean().
    if not instance.text.strip():
        return False
    return None
