from __future__ import annotations

from decimal import Decimal

from django.db import models


class Tag(models.Model):
    name = models.CharField(max_length=40, unique=True)

    def __str__(self) -> str:
        return self.name


class Product(models.Model):
    name = models.CharField(max_length=80, unique=True)
    price = models.DecimalField(max_digits=8, decimal_places=2)
    stock = models.PositiveIntegerField(default=0)
    tags = models.ManyToManyField(Tag, blank=True, related_name="products")

    def __str__(self) -> str:
        return self.name


class AuditEntry(models.Model):
    """Written by receivers: who changed what (see ``receivers.py``)."""

    model = models.CharField(max_length=60)
    object_id = models.PositiveIntegerField()
    action = models.CharField(max_length=40)
    changes = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-pk"]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"{self.model} #{self.object_id} {self.action}"


class Customer(models.Model):
    name = models.CharField(max_length=80)
    email = models.EmailField(unique=True)
    loyalty_points = models.PositiveIntegerField(default=0)
    tier = models.CharField(max_length=20, default="standard")
    last_seen = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.name


class Order(models.Model):
    # Set by the pre_save receiver stamp_order_number (so empty for bulk-created orders).
    number = models.CharField(max_length=40, blank=True)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="orders")
    status = models.CharField(max_length=20, default="new")
    total = models.DecimalField(max_digits=10, decimal_places=2, default=Decimal("0.00"))
    source = models.CharField(max_length=20, default="web")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.number or f"order #{self.pk}"


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField(default=1)
    unit_price = models.DecimalField(max_digits=8, decimal_places=2)

    def __str__(self) -> str:
        return f"{self.quantity} x product #{self.product_id}"


class Restock(models.Model):
    """Created by the blinker receiver reorder_from_supplier."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="restocks")
    quantity = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"restock of {self.quantity} x product #{self.product_id}"


class Review(models.Model):
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="reviews")
    rating = models.PositiveSmallIntegerField()
    # Meant never to be empty: the pre_save receiver refuse_empty_review "refuses" empty ones.
    text = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.rating}-star review of product #{self.product_id}"
