from __future__ import annotations

from django.contrib import admin

from demo_site.shop.models import AuditEntry, Customer, Order, Product, Tag

admin.site.register([Tag, Customer])


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["name", "price", "stock"]


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ["__str__", "customer", "status", "total", "source"]


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ["created_at", "model", "object_id", "action", "changes"]
