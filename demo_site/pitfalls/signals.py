from __future__ import annotations

from django.dispatch import Signal

#: Sent with ``send_robust()`` by the refund view. kwargs: ``order``, ``amount``.
refund_issued = Signal()
