import pytest
from django.contrib.auth.models import Permission
from rest_framework.test import APIClient

from automation.models import Event
from catalog.models import PriceList, PriceListEntry
from tests.factories import StaffFactory

from .conftest import add_products


@pytest.fixture
def api():
    return APIClient()


def test_products_carry_the_callers_own_price_and_tiers(api, shop):
    api.force_authenticate(shop["member"].user)
    body = api.get("/api/v1/products/").json()
    assert [product["slug"] for product in body["results"]] == ["drill"]  # the hidden category is not listed
    variant = body["results"][0]["variants"][0]
    assert variant["price"] == {"unit_price": "90.00", "currency": "EUR", "price_list_id": variant["price"]["price_list_id"],
                                "price_list_name": "Wholesale", "source": "group", "tier_min_quantity": 1}
    assert [(t["min_quantity"], t["unit_price"], t["source"]) for t in variant["tiers"]] == [
        (1, "90.00", "group"), (10, "80.00", "group"), (50, "70.00", "company")]

    api.force_authenticate(shop["consumer"].user)
    body = api.get("/api/v1/products/").json()
    assert {p["slug"]: p["variants"][0]["price"]["unit_price"] for p in body["results"]} == {
        "drill": "100.00", "scale": "300.00"}


def test_hidden_product_detail_is_404_exactly_like_a_missing_one(api, shop):
    api.force_authenticate(shop["member"].user)
    hidden = api.get(f"/api/v1/products/{shop['scale'].product.pk}/")
    missing = api.get("/api/v1/products/999999/")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == missing.json()
    assert api.get(f"/api/v1/products/{shop['drill'].product.pk}/").status_code == 200
    assert api.get("/api/v1/products/", {"sku": "SCALE-1"}).json()["count"] == 0


def test_filters_search_and_category(api, shop):
    api.force_authenticate(shop["consumer"].user)
    assert [p["slug"] for p in api.get("/api/v1/products/", {"search": "scale-1"}).json()["results"]] == ["scale"]
    assert [p["slug"] for p in api.get("/api/v1/products/", {"category": "tools"}).json()["results"]] == ["drill"]
    assert api.get("/api/v1/products/", {"category": "nope"}).json()["count"] == 0


def test_staff_see_every_product_at_default_prices(api, shop):
    shop["drill"].product.is_active = False
    shop["drill"].product.save()
    api.force_authenticate(StaffFactory())
    body = api.get("/api/v1/products/").json()
    assert {p["slug"] for p in body["results"]} == {"drill", "scale"}
    scale = next(p for p in body["results"] if p["slug"] == "scale")
    assert scale["variants"][0]["price"]["source"] == "default"


@pytest.mark.parametrize("count", [5, 50])
def test_product_list_runs_the_same_number_of_queries_for_5_or_50_products(api, shop, count,
                                                                          django_assert_num_queries):
    add_products(count, shop["tools"], shop["default"])
    member = type(shop["member"]).objects.get(pk=shop["member"].pk)
    api.force_authenticate(member.user)
    # catalog rules + category tree, count, page, variants, rules + tree + visible ids
    # (pricing checks again), company, every tier: never one per product
    with django_assert_num_queries(10):
        response = api.get("/api/v1/products/")
    assert response.json()["count"] == count + 1


def test_price_lists_are_for_staff_with_permissions(api, shop):
    api.force_authenticate(shop["member"].user)
    assert api.get("/api/v1/price-lists/").status_code == 403
    staff = StaffFactory()
    api.force_authenticate(staff)
    assert api.get("/api/v1/price-lists/").status_code == 403
    staff.user_permissions.add(*Permission.objects.filter(codename__in=[
        "view_pricelist", "add_pricelist", "change_pricelist", "delete_pricelist", "view_pricelistentry",
        "add_pricelistentry"]))
    staff = type(staff).objects.get(pk=staff.pk)
    api.force_authenticate(staff)
    assert api.get("/api/v1/price-lists/").json()["count"] == 3

    created = api.post("/api/v1/price-lists/", {"name": "VIP", "currency": "usd", "scope": "company",
                                                "company": shop["company"].code, "priority": 3}, format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["currency"] == "USD"
    bad = api.post("/api/v1/price-lists/", {"name": "Broken", "scope": "group"}, format="json")
    assert bad.status_code == 400 and "group" in bad.json()["error"]["fields"]
    assert not PriceList.objects.filter(name="Broken").exists()

    entry = api.post("/api/v1/price-list-entries/", {"price_list": created.json()["id"], "sku": "DRILL-1",
                                                     "min_quantity": 1, "unit_price": "77.00"}, format="json")
    assert entry.status_code == 201, entry.json()
    duplicate = api.post("/api/v1/price-list-entries/", {"price_list": created.json()["id"], "sku": "DRILL-1",
                                                         "min_quantity": 1, "unit_price": "1.00"}, format="json")
    assert duplicate.status_code == 400
    assert PriceListEntry.objects.get(price_list_id=created.json()["id"]).unit_price == 77
    added = Event.objects.get(name="price_list.entry_added")
    assert added.payload == {"price_list_id": created.json()["id"], "variant_id": shop["drill"].pk, "sku": "DRILL-1",
                             "min_quantity": 1, "unit_price": "77.00", "currency": "USD"}
    assert added.actor == staff
    staff.user_permissions.add(Permission.objects.get(codename="delete_pricelistentry"))
    api.force_authenticate(type(staff).objects.get(pk=staff.pk))
    assert api.delete(f"/api/v1/price-list-entries/{entry.json()['id']}/").status_code == 204
    assert Event.objects.get(name="price_list.entry_removed").payload["unit_price"] == "77.00"
    assert not PriceListEntry.objects.filter(price_list_id=created.json()["id"]).exists()
    assert api.patch(f"/api/v1/price-lists/{created.json()['id']}/", {"is_active": False}, format="json").status_code == 200


def test_staff_apply_a_price_rule_through_the_api_once(api, shop):
    staff = StaffFactory()
    staff.user_permissions.add(*Permission.objects.filter(codename__in=[
        "view_pricerule", "add_pricerule", "change_pricerule", "add_pricelist"]))
    api.force_authenticate(type(staff).objects.get(pk=staff.pk))
    rule = api.post("/api/v1/price-rules/", {"name": "+10% tools", "source": shop["default"].pk,
                                             "category": shop["tools"].pk, "percent": "10",
                                             "valid_from": "2030-01-01T00:00:00Z"}, format="json")
    assert rule.status_code == 201, rule.json()
    applied = api.post(f"/api/v1/price-rules/{rule.json()['id']}/apply/")
    assert applied.status_code == 201
    assert applied.json()["valid_from"].startswith("2030-01-01") and applied.json()["derived_from"] == shop["default"].pk
    assert PriceListEntry.objects.get(price_list_id=applied.json()["id"], variant=shop["drill"]).unit_price == 110
    again = api.post(f"/api/v1/price-rules/{rule.json()['id']}/apply/")
    assert again.status_code == 409 and again.json()["error"]["code"] == "price_rule_already_applied"

    api.force_authenticate(shop["member"].user)
    assert api.get("/api/v1/price-rules/").status_code == 403
