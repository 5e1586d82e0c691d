import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from automation.models import Event, JobRun
from catalog import tasks
from catalog.models import CatalogRule, PriceList, Product, Variant
from catalog.pricing import price_for
from customers.models import CustomerProfile
from shopauto.schedule import BEAT_SCHEDULE

from .factories import PriceListFactory


def test_beat_runs_the_price_list_sync_once_per_slot(db):
    assert BEAT_SCHEDULE["catalog.sync_price_lists"]["task"] == tasks.sync_price_lists.name
    now = timezone.now()
    PriceListFactory(name="Starts soon", valid_from=now + timedelta(seconds=90))
    PriceListFactory(name="Now")
    assert tasks._sync(now=now) == {"activated": 1, "deactivated": 0}
    assert tasks._sync(now=now) is None  # same minute: a duplicate beat does nothing
    assert tasks._sync(now=now + timedelta(minutes=2)) == {"activated": 1, "deactivated": 0}
    assert JobRun.objects.filter(job="catalog.sync_price_lists").count() == 2
    assert Event.objects.filter(name="price_list.activated").count() == 2
    assert tasks.sync_price_lists.apply().successful()  # the Celery entry point runs the same job


@pytest.mark.django_db
def test_demo_catalog_loads_idempotently_and_prices_acme_by_contract():
    call_command("demo_data", stdout=io.StringIO())
    counts = (Product.objects.count(), Variant.objects.count(), PriceList.objects.count())
    call_command("demo_data", stdout=io.StringIO())
    assert (Product.objects.count(), Variant.objects.count(), PriceList.objects.count()) == counts
    assert counts[0] >= 12 and counts[2] == 4
    buyer = CustomerProfile.objects.get(user__username="buyer@acme.example")
    assert price_for(customer=buyer, variant=Variant.objects.get(sku="DRL-18V-1"), quantity=1).source == "company"
    assert price_for(customer=buyer, variant=Variant.objects.get(sku="GLV-M"), quantity=50).source == "group"
    assert CatalogRule.objects.filter(company__code="acme").exists()
    assert PriceList.objects.filter(valid_from__gt=timezone.now()).exists()
