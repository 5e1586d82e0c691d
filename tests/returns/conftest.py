"""Returns tests run on the orders test shop (tests/orders/conftest.py): a catalog with
prices, stock in Madrid, a shipping method, Acme's buyer and a consumer."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission

from orders import services as orders
from returns.models import ReturnPolicy
from returns.services import ReturnLineInput
from tests.factories import StaffFactory
from tests.orders.conftest import (  # noqa: F401
    approver,
    buyer,
    company,
    consumer,
    details_for,
    event_names,
    shop,
    staff,
)


@pytest.fixture
def policy(db):
    return ReturnPolicy.objects.create(name="Standard", window_days=30, inspection_reasons=["damaged"],
                                       auto_approve_max_value=Decimal("500.00"))


@pytest.fixture
def returns_staff(db):
    user = StaffFactory(username="returns-desk")
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label__in=["returns", "orders"]))
    return user


def delivered_order(customer, lines, *, payment="invoice"):
    """An order placed, shipped and delivered through the orders services."""
    order = orders.order_place(customer=customer, lines=[(variant.pk, quantity) for variant, quantity in lines],
                               details=details_for(customer, payment=payment))
    if payment == "bank_transfer":
        orders.order_mark_paid(order_id=order.pk, amount=order.total, reference=f"PAY-{order.number}")
    orders.order_ship(order_id=order.pk, actor=None, tracking_number=f"T-{order.number}")
    orders.shipment_tracking_update(tracking_number=f"T-{order.number}", status="delivered")
    order.refresh_from_db()
    assert order.status == "delivered"
    return order


def line_of(order, sku):
    return order.lines.get(sku=sku)


def ask(order, *items, reason="changed_mind", resolution="refund", customer=None, now=None, **kwargs):
    """items: (sku, quantity[, replacement variant])."""
    from returns.services import return_request_create

    lines = [ReturnLineInput(order_line_id=line_of(order, item[0]).pk, quantity=item[1],
                             replacement_variant_id=item[2].pk if len(item) > 2 else None) for item in items]
    return return_request_create(customer=customer or order.customer, order_number=order.number, lines=lines,
                                 reason=reason, resolution=resolution, now=now, **kwargs)

