"""Quote answers racing each other on PostgreSQL (real threads, real connections)."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, Permission

from orders.models import Order
from quotes import services
from quotes.models import Quote
from tests.conftest import requires_postgres
from tests.factories import AddressFactory, CompanyFactory, CustomerFactory, StaffFactory
from tests.orders.conftest import Shop, details_for
from tests.orders.test_concurrency import _run_concurrently

from .conftest import sent_quote

pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True)]


def _people():
    company = CompanyFactory(code="acme")
    buyer = CustomerFactory(company=company, user__email="buyer@acme.example")
    AddressFactory(company=company, region="EU-SOUTH")
    sales = StaffFactory(username="sales")
    sales.user_permissions.add(*Permission.objects.filter(content_type__app_label="quotes"))
    sales.groups.add(Group.objects.get_or_create(name="Sales")[0])
    return buyer, sales


def test_accepting_twice_at_once_places_one_order():
    buyer, sales = _people()
    quote, _variant = sent_quote(Shop(), buyer, sales)

    def accept():
        return services.quote_accept(quote_id=quote.pk, actor=buyer.user, details=details_for(buyer))

    results, errors = _run_concurrently([accept] * 6)

    assert len(results) == 1
    assert {type(error).__name__ for error in errors} == {"TransitionNotAllowed"}
    assert Order.objects.count() == 1
    quote.refresh_from_db()
    assert quote.status == Quote.Status.CONVERTED


def test_expiry_racing_acceptance_lets_exactly_one_win():
    buyer, sales = _people()
    quote, _variant = sent_quote(Shop(), buyer, sales)
    later = quote.valid_until + timedelta(seconds=1)
    # valid_until passed a moment ago: acceptance must refuse, expiry must win once.
    Quote.objects.filter(pk=quote.pk).update(valid_until=quote.valid_until - timedelta(days=365))

    results, errors = _run_concurrently([
        lambda: services.quotes_expire(now=later),
        lambda: services.quotes_expire(now=later),
        lambda: services.quote_accept(quote_id=quote.pk, actor=buyer.user, details=details_for(buyer)),
    ])

    quote.refresh_from_db()
    assert quote.status == Quote.Status.EXPIRED
    assert sorted(r for r in results if isinstance(r, int)) == [0, 1]
    assert [type(e).__name__ for e in errors] in (["QuoteExpired"], ["TransitionNotAllowed"])
    assert not Order.objects.exists()
