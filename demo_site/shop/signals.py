"""The shop's own signals: Django ``Signal``s with extra kwargs, and one blinker named signal."""

from __future__ import annotations

import blinker
from django.dispatch import Signal

#: Sent by the checkout view. kwargs: ``order``, ``total``, ``coupon``.
order_placed = Signal()
#: Sent by the receiver award_loyalty_points. kwargs: ``customer``, ``points``, ``reason``.
loyalty_points_awarded = Signal()
#: Sent with ``asend()`` by the async shipping view. kwargs: ``order``, ``carrier``,
#: ``tracking_code``.
order_shipped = Signal()
#: Sent inside ``transaction.atomic()``. kwargs: ``order``, ``amount``, ``using`` (the database
#: alias, as Django's model signals pass it: receivers write to the same database).
payment_captured = Signal()
#: Sent to build an invoice; each receiver returns the invoice's lines. kwargs: ``order``.
invoice_requested = Signal()

#: A blinker signal, as libraries used next to Django send them. Sender: the product;
#: kwargs: ``stock``, ``threshold``.
stock_low = blinker.signal("shop.stock-low")
