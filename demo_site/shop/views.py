from __future__ import annotations

import secrets
from decimal import Decimal

from asgiref.sync import sync_to_async
from django.core.cache import cache
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from demo_site.shop import data
from demo_site.shop.models import AuditEntry, Order, OrderLine, Product, Restock, Review, Tag
from demo_site.shop.receivers import cache_key
from demo_site.shop.signals import invoice_requested, order_placed, order_shipped, payment_captured
from demo_site.views import render_scenario


def audit(request: HttpRequest) -> HttpResponse:
    products = data.catalog()
    kettle = products["Kettle"]
    cache.set(cache_key(kettle), "<html>cached kettle page</html>", 600)
    last_entry = AuditEntry.objects.values_list("pk", flat=True).first() or 0

    kettle.price = Decimal("29.00") if kettle.price != Decimal("29.00") else Decimal("24.00")
    kettle.save()

    sale = Tag.objects.get(name="sale")
    if kettle.tags.filter(pk=sale.pk).exists():
        kettle.tags.remove(sale)
    else:
        kettle.tags.add(sale)

    toaster = Product.objects.create(
        name=f"Toaster {secrets.token_hex(2)}", price=Decimal("31.00"), stock=3
    )
    toaster.tags.add(Tag.objects.get(name="kitchen"))
    toaster.delete()

    entries = AuditEntry.objects.filter(pk__gt=last_entry).order_by("pk")
    return render_scenario(
        request,
        "audit",
        [
            f"Kettle now costs {kettle.price}; e-mailed pricing@example.com (the e-mail is "
            f"printed in the terminal that runs the server).",
            "Cached kettle page after the save: "
            + ("still there" if cache.get(cache_key(kettle)) else "cleared by clear_cached_page"),
            *(f"Audit log: {e.model} #{e.object_id} {e.action} {e.changes}" for e in entries),
        ],
    )


def checkout(request: HttpRequest) -> HttpResponse:
    products = data.catalog()
    customer = data.customer()
    order = Order.objects.create(customer=customer)
    total = Decimal("0.00")
    for name, quantity in [("Teapot", 1), ("Mug", 4)]:
        product = products[name]
        OrderLine.objects.create(
            order=order, product=product, quantity=quantity, unit_price=product.price
        )
        total += product.price * quantity

    order_placed.send(sender=Order, order=order, total=total, coupon="SPRING24")

    customer.refresh_from_db()
    return render_scenario(
        request,
        "custom",
        [
            f"Placed {order.number} for {customer.name}, total {total}, coupon SPRING24.",
            f"award_loyalty_points gave {int(total)} points and sent loyalty_points_awarded: "
            f"{customer.name} now has {customer.loyalty_points} points ({customer.tier} tier).",
        ],
    )


async def ship(request: HttpRequest) -> HttpResponse:
    order = await sync_to_async(data.sample_order)("SHIP-DEMO", 2)
    responses = await order_shipped.asend(
        sender=Order, order=order, carrier="Parcelforce", tracking_code="PF123456789GB"
    )
    await order.arefresh_from_db()
    outcome = [f"{order.number} is now {order.status}."]
    outcome += [f"{receiver.__name__} returned {response!r}" for receiver, response in responses]
    # Rendering reads nothing from the database, but the context processors are sync code.
    return await sync_to_async(render_scenario)(request, "async", outcome)


def blinker_signal(request: HttpRequest) -> HttpResponse:
    umbrella = data.catalog()["Umbrella"]
    umbrella.stock = 2  # A rainy day: all but two sold.
    umbrella.save()
    restock = Restock.objects.filter(product=umbrella).order_by("-pk").first()
    return render_scenario(
        request,
        "blinker",
        [
            f"{umbrella.name} stock is {umbrella.stock}: watch_stock_level sent shop.stock-low.",
            f"reorder_from_supplier created {restock}.",
        ],
    )


def transactions(request: HttpRequest) -> HttpResponse:
    order = data.sample_order("PAY-DEMO")
    with transaction.atomic():
        order.status = "paid"
        order.save(update_fields=["status"])
        payment_captured.send(sender=Order, order=order, amount=order.total, using=order._state.db)
    customer = order.customer
    customer.last_seen = timezone.now()
    customer.save(update_fields=["last_seen"])
    return render_scenario(
        request,
        "transactions",
        [
            f"Captured {order.total} for {order.number} inside transaction.atomic().",
            "The receipt e-mail went out when the block committed (printed in the terminal "
            "that runs the server); a rollback would have dropped it.",
            f"Saved {customer.name}'s last visit after the block, outside any transaction.",
        ],
    )


IMPORTED_ORDERS = 40


def bulk(request: HttpRequest) -> HttpResponse:
    customer = data.customer()
    Order.objects.filter(source="import").delete()  # The previous visit's import.

    orders = Order.objects.bulk_create(
        Order(customer=customer, source="import", total=Decimal(10 + i))
        for i in range(IMPORTED_ORDERS)
    )
    cancelled = Order.objects.filter(source="import").update(status="cancelled")
    for order in orders:
        order.total += Decimal("1.00")
    Order.objects.bulk_update(orders, ["total"])

    unnumbered = Order.objects.filter(source="import", number="").count()
    return render_scenario(
        request,
        "bulk",
        [
            f"bulk_create() imported {len(orders)} orders, update() cancelled {cancelled}, "
            f"bulk_update() re-priced {len(orders)}.",
            f"{unnumbered} of them have no order number: stamp_order_number never ran, and "
            f"sync_order_to_crm never told the CRM.",
        ],
    )


def n_plus_one(request: HttpRequest) -> HttpResponse:
    order = data.sample_order("INVOICE-DEMO", len(data.PRODUCTS))
    responses = invoice_requested.send(sender=Order, order=order)
    return render_scenario(
        request,
        "n_plus_one",
        [
            f"{receiver.__name__} built {len(lines)} invoice lines for {order.number}."
            for receiver, lines in responses
        ],
    )


class PaymentDeclined(Exception):
    pass


def settle_payment(order: Order) -> None:
    """Stands in for the bank's fraud check after the capture: it declines this card."""
    raise PaymentDeclined(f"the bank's fraud check refused the card for {order.number}")


def rolled_back(request: HttpRequest) -> HttpResponse:
    order = data.sample_order("DECLINED-DEMO", 2)
    cache.delete(f"crm-order:{order.pk}")  # What the CRM was told on the previous visit.
    declined = ""
    try:
        with transaction.atomic():
            order.status = "paid"
            order.save(update_fields=["status"])
            payment_captured.send(
                sender=Order, order=order, amount=order.total, using=order._state.db
            )
            settle_payment(order)
    except PaymentDeclined as error:
        declined = str(error)
    order.refresh_from_db()
    audited = AuditEntry.objects.filter(
        model="shop.Order", object_id=order.pk, action="payment captured"
    ).exists()
    crm = cache.get(f"crm-order:{order.pk}")
    return render_scenario(
        request,
        "rolled_back",
        [
            f"Payment declined: {declined}. The view caught the error and shows this page.",
            f"{order.number} is “{order.status}” again: the rollback undid its save as paid"
            + (
                ", but not record_payment's audit entry."
                if audited
                else ", and record_payment's audit entry with it."
            ),
            "No receipt was e-mailed: email_receipt_on_commit queued it with on_commit(), and "
            "the rollback discarded it, as it should.",
            f"The CRM still has {order.number} as “{crm}”: sync_order_to_crm told it directly "
            "from post_save, and a rollback does not undo that.",
        ],
    )


def ignored_return(request: HttpRequest) -> HttpResponse:
    kettle = data.catalog()["Kettle"]
    review = Review.objects.create(product=kettle, rating=1, text="")
    empty = Review.objects.filter(text="").count()
    return render_scenario(
        request,
        "ignored_return",
        [
            f"Saved review #{review.pk} of the {kettle.name}, {review.rating} star, with no text: "
            "refuse_empty_review returned False to cancel the save, and Django saved it anyway.",
            f"Empty reviews in the database: {empty} (one more per visit).",
        ],
    )
