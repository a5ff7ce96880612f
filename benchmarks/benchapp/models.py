from __future__ import annotations

from django.db import models


class Item(models.Model):
    """A product: 30,000 of them are streamed, one is looked up per order."""

    name = models.CharField(max_length=100)
    price = models.DecimalField(max_digits=10, decimal_places=2)
    stock = models.IntegerField(default=0)
    created = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class Order(models.Model):
    """What the save cascade creates."""

    item = models.ForeignKey(Item, on_delete=models.CASCADE)
    quantity = models.IntegerField()
    reference = models.CharField(max_length=40, blank=True)

    def __str__(self) -> str:
        return self.reference
