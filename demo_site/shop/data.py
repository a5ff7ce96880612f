"""The shop's demo data, created on first use (``load_demo_data`` creates it all up front)."""

from __future__ import annotations

from decimal import Decimal

from demo_site.shop.models import Customer, Order, OrderLine, Product, Tag

PRODUCTS = [
    ("Kettle", "24.00", 40),
    ("Teapot", "18.50", 25),
    ("Umbrella", "12.00", 30),
    ("Raincoat", "59.00", 12),
    ("Wellington boots", "35.00", 20),
    ("Thermos", "16.00", 50),
    ("Mug", "6.50", 120),
    ("Scarf", "22.00", 18),
    ("Gloves", "14.00", 33),
    ("Blanket", "45.00", 9),
    ("Candle", "8.00", 70),
    ("Notebook", "4.50", 200),
]
TAGS = ["kitchen", "rain", "winter", "sale"]


def catalog() -> dict[str, Product]:
    """Every demo product by name (the products a scenario changed keep their changes)."""
    for name in TAGS:
        Tag.objects.get_or_create(name=name)
    products = {}
    for name, price, stock in PRODUCTS:
        product, _created = Product.objects.get_or_create(
            name=name, defaults={"price": Decimal(price), "stock": stock}
        )
        products[name] = product
    return products


def customer() -> Customer:
    found, _created = Customer.objects.get_or_create(
        email="grace@example.com", defaults={"name": "Grace Hopper"}
    )
    return found


def sample_order(number: str, lines: int = 3) -> Order:
    """The order with this number, created with ``lines`` lines if it does not exist yet."""
    existing = Order.objects.filter(number=number).first()
    if existing is not None:
        return existing
    products = list(catalog().values())[:lines]
    order = Order.objects.create(number=number, customer=customer())
    total = Decimal("0.00")
    for index, product in enumerate(products, start=1):
        OrderLine.objects.create(
            order=order, product=product, quantity=index, unit_price=product.price
        )
        total += product.price * index
    order.total = total
    order.save(update_fields=["total"])
    return order


def load() -> None:
    catalog()
    customer()
    for number, lines in [
        ("SHIP-DEMO", 2),
        ("PAY-DEMO", 3),
        ("DECLINED-DEMO", 2),
        ("REFUND-DEMO", 1),
        ("INVOICE-DEMO", len(PRODUCTS)),
    ]:
        sample_order(number, lines)
