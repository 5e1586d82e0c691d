"""Quote tests reuse the orders test shop (catalog, stock, shipping, Acme buyer/approver,
a consumer) and add staff with and without the quotes.approve_quote permission."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, Permission

from quotes import services
from quotes.services import PricedLine, RequestedLine
from tests.factories import StaffFactory
from tests.orders.conftest import (  # noqa: F401  (fixtures)
    Shop,
    approver,
    buyer,
    company,
    consumer,
    details_for,
    event_names,
    shop,
)


@pytest.fixture
def sales(db):
    user = StaffFactory(username="sales", email="sales@shop.example")
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label="quotes").exclude(
        codename="approve_quote"))
    group, _ = Group.objects.get_or_create(name="Sales")
    user.groups.add(group)
    return user


@pytest.fixture
def manager(db):
    user = StaffFactory(username="manager", email="manager@shop.example")
    group, _ = Group.objects.get_or_create(name="Managers")
    group.permissions.add(*Permission.objects.filter(content_type__app_label="quotes"))
    user.groups.add(group)
    return user


def rfq(customer, *lines, notes="", **kwargs):
    return services.quote_request(customer=customer, lines=[RequestedLine(v.pk, qty, *rest) for v, qty, *rest in lines],
                                  notes=notes, actor=customer.user, **kwargs)


def price(quote, actor, *lines, **kwargs):
    return services.quote_price(quote_id=quote.pk, actor=actor,
                                lines=[PricedLine(v.pk, qty, Decimal(str(unit))) for v, qty, unit in lines], **kwargs)


def sent_quote(the_shop, customer, staff_user, unit="9.00", quantity=10, sku="A"):
    """A quote for `quantity` of a new 10.00 SKU, priced at `unit` and sent."""
    variant = the_shop.variant(sku, price="10.00")
    quote = rfq(customer, (variant, quantity))
    price(quote, staff_user, (variant, quantity, unit))
    services.quote_send(quote_id=quote.pk, actor=staff_user)
    quote.refresh_from_db()
    return quote, variant
