from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from catalog.exceptions import NotInCatalog, PriceNotFound
from catalog.models import CatalogRule, PriceList
from catalog.pricing import PriceQuote, price_explain, price_for, prices_for, tiers_for
from catalog.selectors import variant_get_for_customer, variants_visible_to
from shopauto.exceptions import InvalidInput
from tests.factories import CompanyFactory, CustomerFactory, CustomerGroupFactory

from .factories import CatalogRuleFactory, CategoryFactory, PriceListFactory, VariantFactory, price


@pytest.fixture
def world(db):
    """One variant priced by a default list, a group list and a company list."""
    group = CustomerGroupFactory(code="wholesale")
    company = CompanyFactory(group=group)
    variant = VariantFactory()
    default = PriceListFactory(name="Default")
    group_list = PriceListFactory(name="Wholesale", scope=PriceList.Scope.GROUP, group=group)
    company_list = PriceListFactory(name="Acme", scope=PriceList.Scope.COMPANY, company=company)
    price(default, variant, (1, "100.00"))
    price(group_list, variant, (1, "90.00"), (10, "85.00"))
    price(company_list, variant, (1, "80.00"))
    return {"group": group, "company": company, "variant": variant, "default": default, "group_list": group_list,
            "company_list": company_list}


def test_fallback_order_company_then_group_then_default(world):
    variant = world["variant"]
    member = CustomerFactory(company=world["company"])
    consumer_in_group = CustomerFactory(group=world["group"])
    consumer = CustomerFactory()

    assert price_for(customer=member, variant=variant, quantity=1) == PriceQuote(
        unit_price=Decimal("80.00"), currency="EUR", price_list_id=world["company_list"].pk, price_list_name="Acme",
        source="company", tier_min_quantity=1)
    assert price_for(customer=consumer_in_group, variant=variant, quantity=1).source == "group"
    assert price_for(customer=consumer, variant=variant, quantity=1).source == "default"
    assert price_for(customer=None, variant=variant, quantity=1).unit_price == Decimal("100.00")

    world["company_list"].entries.all().delete()  # the company list no longer prices it: the group's does
    quote = price_for(customer=member, variant=variant, quantity=1)
    assert (quote.source, quote.unit_price, quote.price_list_name) == ("group", Decimal("90.00"), "Wholesale")

    world["group_list"].entries.all().delete()
    assert price_for(customer=member, variant=variant, quantity=1).source == "default"


def test_a_company_member_is_priced_by_the_company_group_not_their_own(world):
    other_group = CustomerGroupFactory()
    PriceListFactory(scope=PriceList.Scope.GROUP, group=other_group)
    price(PriceList.objects.get(group=other_group), world["variant"], (1, "1.00"))
    world["company_list"].entries.all().delete()
    member = CustomerFactory(company=world["company"], group=other_group)
    assert price_for(customer=member, variant=world["variant"], quantity=1).unit_price == Decimal("90.00")


@pytest.mark.parametrize(("quantity", "expected", "tier"), [
    (1, "90.00", 1), (9, "90.00", 1), (10, "85.00", 10), (49, "85.00", 10), (50, "80.00", 50), (1000, "80.00", 50),
])
def test_tiers_at_their_boundaries(db, quantity, expected, tier):
    group = CustomerGroupFactory()
    variant = VariantFactory()
    price(PriceListFactory(scope=PriceList.Scope.GROUP, group=group), variant, (1, "90.00"), (10, "85.00"), (50, "80.00"))
    quote = price_for(customer=CustomerFactory(group=group), variant=variant, quantity=quantity)
    assert (quote.unit_price, quote.tier_min_quantity) == (Decimal(expected), tier)


def test_a_list_whose_first_tier_is_above_the_quantity_falls_back(world):
    world["company_list"].entries.all().delete()
    price(world["company_list"], world["variant"], (100, "70.00"))
    member = CustomerFactory(company=world["company"])
    assert price_for(customer=member, variant=world["variant"], quantity=99).source == "group"
    assert price_for(customer=member, variant=world["variant"], quantity=100).unit_price == Decimal("70.00")
    assert [(t.min_quantity, t.unit_price, t.source) for t in tiers_for(customer=member, variant_ids=[world["variant"].pk])[
        world["variant"].pk]] == [(1, Decimal("90.00"), "group"), (10, Decimal("85.00"), "group"),
                                  (100, Decimal("70.00"), "company")]


def test_currency_is_kept_from_the_list_that_priced_it(db):
    variant = VariantFactory()
    price(PriceListFactory(currency="USD"), variant, (1, "12.34"))
    quote = price_for(customer=CustomerFactory(), variant=variant, quantity=3)
    assert (quote.unit_price, quote.currency) == (Decimal("12.34"), "USD")
    assert isinstance(quote.unit_price, Decimal)


def test_company_members_are_priced_only_in_their_company_currency(db):
    company = CompanyFactory(currency="BRL")
    variant = VariantFactory()
    price(PriceListFactory(currency="EUR", name="EUR default"), variant, (1, "10.00"))
    member = CustomerFactory(company=company)
    with pytest.raises(PriceNotFound):
        price_for(customer=member, variant=variant, quantity=1)
    price(PriceListFactory(currency="BRL", name="BRL default"), variant, (1, "55.00"))
    assert price_for(customer=member, variant=variant, quantity=1).currency == "BRL"


def test_validity_window_is_honoured_at_read_time_without_the_beat_job(db):
    now = timezone.now()
    variant = VariantFactory()
    price(PriceListFactory(name="Base"), variant, (1, "10.00"))
    sale = PriceListFactory(name="Sale", priority=5, valid_from=now + timedelta(days=1), valid_until=now + timedelta(days=2))
    price(sale, variant, (1, "8.00"))
    assert not sale.is_current  # the job never ran
    assert price_for(customer=None, variant=variant, quantity=1).price_list_name == "Base"
    assert price_for(customer=None, variant=variant, quantity=1, at=now + timedelta(days=1, hours=1)).price_list_name == "Sale"
    assert price_for(customer=None, variant=variant, quantity=1, at=now + timedelta(days=2)).price_list_name == "Base"
    PriceList.objects.filter(pk=sale.pk).update(is_active=False)
    assert price_for(customer=None, variant=variant, quantity=1, at=now + timedelta(days=1, hours=1)).price_list_name == "Base"


def test_priority_then_later_start_wins_within_a_level(db):
    now = timezone.now()
    variant = VariantFactory()
    price(PriceListFactory(name="Low", priority=0), variant, (1, "10.00"))
    price(PriceListFactory(name="High", priority=1), variant, (1, "11.00"))
    assert price_for(customer=None, variant=variant, quantity=1).price_list_name == "High"
    price(PriceListFactory(name="High v2", priority=1, valid_from=now - timedelta(hours=1)), variant, (1, "12.00"))
    assert price_for(customer=None, variant=variant, quantity=1).price_list_name == "High v2"


def test_no_price_is_a_clear_error_and_bad_quantity_is_refused(db):
    variant = VariantFactory()
    with pytest.raises(PriceNotFound) as error:
        price_for(customer=None, variant=variant, quantity=1)
    assert error.value.code == "price_not_found" and error.value.status == 400
    with pytest.raises(InvalidInput):
        price_for(customer=None, variant=variant, quantity=0)


def test_hidden_products_cannot_be_priced_or_fetched(db):
    company = CompanyFactory()
    hidden_category = CategoryFactory()
    hidden = VariantFactory(product__category=hidden_category)
    visible = VariantFactory()
    default = PriceListFactory()
    price(default, hidden, (1, "5.00"))
    price(default, visible, (1, "6.00"))
    CatalogRuleFactory(company=company, category=hidden_category)
    member = CustomerFactory(company=company)

    with pytest.raises(NotInCatalog) as error:
        price_for(customer=member, variant=hidden, quantity=1)
    assert (error.value.code, error.value.status) == ("not_found", 404)
    with pytest.raises(NotInCatalog):
        variant_get_for_customer(customer=member, sku=hidden.sku)
    assert set(prices_for(customer=member, items=[(hidden, 1), (visible, 1)])) == {visible.pk}
    assert variant_get_for_customer(customer=member, sku=visible.sku) == visible
    # Another company and consumers still see it.
    assert price_for(customer=CustomerFactory(), variant=hidden, quantity=1).unit_price == Decimal("5.00")


def test_exclusion_covers_subcategories_and_include_rules_restrict(db):
    company = CompanyFactory()
    root = CategoryFactory()
    child = CategoryFactory(parent=root)
    in_child = VariantFactory(product__category=child)
    elsewhere = VariantFactory()
    single = VariantFactory()
    member = CustomerFactory(company=company)
    CatalogRuleFactory(company=company, category=root)
    assert set(variants_visible_to(customer=member)) == {elsewhere, single}

    CatalogRule.objects.all().delete()
    CatalogRuleFactory(company=company, category=root, effect=CatalogRule.Effect.INCLUDE)
    CatalogRuleFactory(company=company, product=single.product, effect=CatalogRule.Effect.INCLUDE)
    assert set(variants_visible_to(customer=member)) == {in_child, single}


def test_inactive_variants_and_products_are_not_in_anybodys_catalog(db):
    variant = VariantFactory(is_active=False)
    product_off = VariantFactory(product__is_active=False)
    price(PriceListFactory(), variant, (1, "1.00"))
    for item in (variant, product_off):
        with pytest.raises(NotInCatalog):
            price_for(customer=None, variant=item, quantity=1)


def test_bulk_prices_match_one_by_one_and_run_constant_queries(db, django_assert_num_queries, world):
    variants = [world["variant"], *VariantFactory.create_batch(30)]
    for index, variant in enumerate(variants[1:]):
        price(world["default"], variant, (1, f"{10 + index}.00"), (5, f"{9 + index}.00"))
    member = CustomerFactory(company=world["company"])
    member = type(member).objects.select_related("company").get(pk=member.pk)
    items = [(variant, 1 + index % 7) for index, variant in enumerate(variants)]
    # the company's catalog rules, the visible variants, every tier of every usable list
    with django_assert_num_queries(3):
        quotes = prices_for(customer=member, items=items)
    assert quotes == {variant.pk: price_for(customer=member, variant=variant, quantity=quantity)
                      for variant, quantity in items}
    with django_assert_num_queries(3):
        prices_for(customer=member, items=items[:3])


def test_price_explain_lists_every_candidate_and_the_winner(world):
    now = timezone.now()
    price(PriceListFactory(name="Future", valid_from=now + timedelta(days=3)), world["variant"], (1, "1.00"))
    member = CustomerFactory(company=world["company"])
    explanation = price_explain(customer=member, variant=world["variant"], quantity=10)
    names = [(c.price_list.name, c.won) for c in explanation["candidates"]]
    assert names == [("Acme", True), ("Wholesale", False), ("Future", False), ("Default", False)]
    assert "scheduled" in explanation["candidates"][2].reason
    assert explanation["quote"] == price_for(customer=member, variant=world["variant"], quantity=10)
