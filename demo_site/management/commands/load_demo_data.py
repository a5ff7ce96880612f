"""``manage.py load_demo_data``: the rows the scenarios start from. Safe to run again."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.core.management.base import BaseCommand

from demo_site.family.models import FamilyMember
from demo_site.pitfalls.models import Page
from demo_site.shop import data as shop_data
from demo_site.shop.models import Order, Product


class Command(BaseCommand):
    help = "Create the example project's demo data (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        shop_data.load()
        if not FamilyMember.objects.filter(name="Ada 0").exists():
            ada = FamilyMember.objects.create(name="Ada 0")
            FamilyMember.objects.create(name="Annabella 0", spouse=ada)
        Page.objects.get_or_create(pk=1, defaults={"title": "About us"})
        if not User.objects.filter(username="admin").exists():
            User.objects.create_superuser("admin", "admin@example.com", "admin")
            self.stdout.write("Created superuser admin (password: admin) for /admin/.")
        self.stdout.write(
            f"Demo data ready: {Product.objects.count()} products, "
            f"{Order.objects.count()} orders, {FamilyMember.objects.count()} family members."
        )
