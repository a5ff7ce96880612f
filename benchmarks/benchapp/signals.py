"""The project's own signals."""

from __future__ import annotations

from django.dispatch import Signal

#: Sent by the ``post_save`` receiver of ``Order``: the nested send of the save cascade.
order_placed = Signal()

#: Listed in ``IGNORE_SIGNALS`` by the benchmark of an ignored signal (see ``IGNORED_SIGNAL``).
stock_checked = Signal()

#: Its dotted name, as ``IGNORE_SIGNALS`` lists signals.
IGNORED_SIGNAL = "benchmarks.benchapp.signals.stock_checked"

# The panel render benchmark's recordings (benchmarks/panel_render.py).

#: Sent from many different senders, one receiver: nothing folds.
page_viewed = Signal()
#: Its receiver reserves stock, sending ``stock_reserved``: nested sends.
cart_checked_out = Signal()
stock_reserved = Signal()
