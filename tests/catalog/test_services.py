from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from automation.models import Event
from catalog import resources, services
from catalog.exceptions import PriceRuleAlreadyApplied
from catalog.models import PriceList, PriceListEntry, PriceRule, Product, Variant
from catalog.pricing import price_for
from shopauto.exceptions import InvalidInput
from tests.conftest import requires_postgres
from tests.factories import StaffFactory

from .factories import CategoryFactory, PriceListFactory, ProductFactory, VariantFactory, price


@pytest.fixture
def rule_world(db):
    tools = CategoryFactory(slug="tools")
    drills = CategoryFactory(slug="drills", parent=tools)
    drill = VariantFactory(product__category=drills)
    glove = VariantFactory()
    source = PriceListFactory(name="Default")
    price(source, drill, (1, "100.00"), (10, "90.01"))
    price(source, glove, (1, "5.00"))
    starts = timezone.now() + timedelta(days=7)
    rule = PriceRule.objects.create(name="+5% tools", source=source, category=tools, percent=Decimal("5"),
                                    valid_from=starts)
    return {"rule": rule, "source": source, "drill": drill, "glove": glove, "starts": starts}


def test_price_rule_creates_a_new_scheduled_version_and_records_the_run(rule_world):
    rule, source, drill, glove = rule_world["rule"], rule_world["source"], rule_world["drill"], rule_world["glove"]
    staff = StaffFactory()
    version = services.price_rule_apply(rule_id=rule.pk, actor=staff)

    assert (version.derived_from, version.valid_from, version.scope, version.currency) == (
        source, rule_world["starts"], "default", "EUR")
    new_prices = dict(((e.variant_id, e.min_quantity), e.unit_price) for e in version.entries.all())
    assert new_prices == {(drill.pk, 1): Decimal("105.00"), (drill.pk, 10): Decimal("94.51"),
                          (glove.pk, 1): Decimal("5.00")}
    # The source list is untouched: prices are never edited in place.
    assert sorted(source.entries.values_list("unit_price", flat=True)) == [
        Decimal("5.00"), Decimal("90.01"), Decimal("100.00")]
    rule.refresh_from_db()
    assert (rule.result, rule.applied_by, rule.entries_changed) == (version, staff, 2)
    assert rule.applied_at is not None
    event = Event.objects.get(name="price_rule.applied")
    assert event.payload["price_list_id"] == version.pk and event.payload["entries_changed"] == 2
    # Until D the old prices hold; from D the new version wins (later start, same priority).
    assert price_for(customer=None, variant=drill, quantity=1).unit_price == Decimal("100.00")
    at = rule_world["starts"] + timedelta(minutes=1)
    assert price_for(customer=None, variant=drill, quantity=1, at=at).unit_price == Decimal("105.00")


def test_price_rule_applies_once_only(rule_world):
    services.price_rule_apply(rule_id=rule_world["rule"].pk)
    lists, events = PriceList.objects.count(), Event.objects.count()
    with pytest.raises(PriceRuleAlreadyApplied):
        services.price_rule_apply(rule_id=rule_world["rule"].pk)
    assert (PriceList.objects.count(), Event.objects.count()) == (lists, events)


def test_price_rule_starting_after_its_source_ends_is_refused(rule_world):
    PriceList.objects.filter(pk=rule_world["source"].pk).update(valid_until=rule_world["starts"])
    with pytest.raises(InvalidInput):
        services.price_rule_apply(rule_id=rule_world["rule"].pk)
    rule = PriceRule.objects.get(pk=rule_world["rule"].pk)
    assert rule.applied_at is None and PriceList.objects.count() == 1 and not Event.objects.exists()


def test_sync_flips_lists_by_their_window_and_emits_once(db):
    now = timezone.now()
    always = PriceListFactory(name="Always")
    scheduled = PriceListFactory(name="Scheduled", valid_from=now + timedelta(hours=1), valid_until=now + timedelta(hours=2))
    switched_off = PriceListFactory(name="Off", is_active=False)

    assert services.price_lists_sync(now=now) == {"activated": 1, "deactivated": 0}
    assert services.price_lists_sync(now=now) == {"activated": 0, "deactivated": 0}
    assert list(Event.objects.values_list("name", "subject_id")) == [("price_list.activated", str(always.pk))]

    assert services.price_lists_sync(now=now + timedelta(hours=1)) == {"activated": 1, "deactivated": 0}
    assert services.price_lists_sync(now=now + timedelta(hours=2)) == {"activated": 0, "deactivated": 1}
    assert list(Event.objects.filter(subject_id=str(scheduled.pk)).values_list("name", flat=True).order_by("pk")) == [
        "price_list.activated", "price_list.deactivated"]
    switched_off.refresh_from_db()
    assert not switched_off.is_current
    PriceList.objects.filter(pk=always.pk).update(is_active=False)
    assert services.price_lists_sync(now=now + timedelta(hours=3)) == {"activated": 0, "deactivated": 1}


PRICE_CSV = "price_list,sku,min_quantity,unit_price\n{list},{a},1,10.00\n{list},{b},1,-3\n{list},NOPE,1,2.00\n{list},{a},5,9.00\n"


def test_price_import_with_bad_rows_writes_nothing_and_names_each_line(db):
    price_list = PriceListFactory()
    a, b = VariantFactory(), VariantFactory()
    data = PRICE_CSV.format(list=price_list.pk, a=a.sku, b=b.sku)
    outcome = services.catalog_import(resource=resources.PriceListEntryResource(), data=data)
    assert not outcome["ok"] and not outcome["written"]
    assert [error["line"] for error in outcome["errors"]] == [3, 4]
    assert "unit_price" in outcome["errors"][0]["errors"]
    assert "NOPE" in str(outcome["errors"][1]["errors"])
    assert not PriceListEntry.objects.exists()


def test_price_import_of_good_rows_writes_them_and_export_round_trips(db):
    price_list = PriceListFactory()
    a = VariantFactory()
    data = f"price_list,sku,min_quantity,unit_price\n{price_list.pk},{a.sku},1,10.00\n{price_list.pk},{a.sku},5,9.50\n"
    outcome = services.catalog_import(resource=resources.PriceListEntryResource(), data=data)
    assert outcome["ok"] and outcome["written"], outcome
    assert price_for(customer=None, variant=a, quantity=5).unit_price == Decimal("9.50")
    exported = resources.PriceListEntryResource().export().csv
    assert exported.replace("\r\n", "\n") == data


def test_product_and_variant_import_is_all_or_nothing(db):
    CategoryFactory(slug="tools")
    products = "slug,name,category,description,is_active,returnable,return_window_days\n" \
               "drill,Drill,tools,,1,1,\nsaw,Saw,missing-category,,1,1,\n"
    outcome = services.catalog_import(resource=resources.ProductResource(), data=products)
    assert [error["line"] for error in outcome["errors"]] == [3]
    assert not Product.objects.exists()

    outcome = services.catalog_import(resource=resources.ProductResource(), data=products.replace("missing-category", "tools"))
    assert outcome["ok"], outcome
    variants = "sku,product,name,attributes,weight_grams,is_active,returnable,return_window_days\n" \
               "DR-1,drill,Blue,{},1000,1,,\n,saw,Empty sku,{},1,1,,\n"
    outcome = services.catalog_import(resource=resources.VariantResource(), data=variants)
    assert not outcome["ok"] and outcome["errors"][0]["line"] == 3
    assert not Variant.objects.exists()
    assert ProductFactory._meta.model.objects.count() == 2


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_runs_of_a_rule_make_one_version():
    import threading

    from django.db import connection

    source = PriceListFactory(name="Default")
    price(source, VariantFactory(), (1, "10.00"))
    rule = PriceRule.objects.create(name="+1%", source=source, percent=Decimal("1"),
                                    valid_from=timezone.now() + timedelta(days=1))
    barrier, outcomes = threading.Barrier(2), []

    def run():
        try:
            barrier.wait()
            outcomes.append(services.price_rule_apply(rule_id=rule.pk).pk)
        except PriceRuleAlreadyApplied:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes, key=str).count("refused") == 1
    assert PriceList.objects.filter(derived_from=source).count() == 1
    assert Event.objects.filter(name="price_rule.applied").count() == 1
